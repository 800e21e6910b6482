import re


def count_words(s):
    counts = {}
    for w in re.findall("[a-z]+", s.lower()):
        counts[w] = counts.get(w, 0) + 1
    return counts
