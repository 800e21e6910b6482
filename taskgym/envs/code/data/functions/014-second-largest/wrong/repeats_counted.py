def second_largest(xs):
    return sorted(xs)[-2] if len(xs) >= 2 else None
