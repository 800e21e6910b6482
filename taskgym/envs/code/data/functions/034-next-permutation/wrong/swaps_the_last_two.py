def next_permutation(xs):
    a = list(xs)
    if len(a) < 2:
        return a
    a[-1], a[-2] = a[-2], a[-1]
    return a
