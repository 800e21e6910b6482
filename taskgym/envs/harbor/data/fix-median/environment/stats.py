"""Summary statistics for lists of numbers."""


def mean(values):
    return sum(values) / len(values)


def median(values):
    values.sort()
    middle = len(values) // 2
    return values[middle]


def spread(values):
    return max(values) - min(values)
