def balance_point(xs):
    total = sum(xs)
    left = 0
    for i in range(len(xs) + 1):
        if 2 * left == total:
            return i
        if i < len(xs):
            left += xs[i]
    return -1
