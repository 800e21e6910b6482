def balance_point(xs):
    total = sum(xs)
    left = 0
    for i, x in enumerate(xs):
        left += x
        if 2 * left >= total:
            return i + 1
    return -1
