def lis_length(xs):
    best = [1] * len(xs)
    for i in range(len(xs)):
        for j in range(i):
            if xs[j] <= xs[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)
