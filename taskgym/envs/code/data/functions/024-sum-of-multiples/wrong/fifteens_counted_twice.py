def sum_multiples(n):
    return sum(range(0, n, 3)) + sum(range(0, n, 5))
