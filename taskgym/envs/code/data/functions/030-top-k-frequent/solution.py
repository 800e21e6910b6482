from collections import Counter


def top_k(xs, k):
    counts = Counter(xs)
    return sorted(counts, key=lambda x: (-counts[x], x))[:k]
