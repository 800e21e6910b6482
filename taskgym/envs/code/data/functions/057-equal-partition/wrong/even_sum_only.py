def can_partition(xs):
    return sum(xs) % 2 == 0
