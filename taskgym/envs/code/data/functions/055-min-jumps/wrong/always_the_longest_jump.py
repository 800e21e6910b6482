def min_jumps(xs):
    i = jumps = 0
    while i < len(xs) - 1:
        if xs[i] == 0:
            return -1
        i += xs[i]
        jumps += 1
    return jumps
