def remove_duplicates(xs):
    return list(set(xs))
