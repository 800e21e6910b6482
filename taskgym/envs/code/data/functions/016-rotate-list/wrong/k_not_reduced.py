def rotate(xs, k):
    return xs[-k:] + xs[:-k] if k else list(xs)
