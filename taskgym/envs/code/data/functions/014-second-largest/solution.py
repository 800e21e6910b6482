def second_largest(xs):
    distinct = sorted(set(xs))
    return distinct[-2] if len(distinct) >= 2 else None
