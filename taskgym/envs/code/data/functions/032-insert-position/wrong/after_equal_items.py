import bisect


def insert_position(xs, x):
    return bisect.bisect_right(xs, x)
