from collections import Counter


def top_k(xs, k):
    return [x for x, _ in Counter(xs).most_common(k)]
