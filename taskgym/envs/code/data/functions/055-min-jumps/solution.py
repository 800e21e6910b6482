def min_jumps(xs):
    jumps, end, farthest = 0, 0, 0
    for i in range(len(xs) - 1):
        if i > farthest:
            return -1
        farthest = max(farthest, i + xs[i])
        if i == end:
            if farthest <= i:
                return -1
            jumps += 1
            end = farthest
    return jumps
