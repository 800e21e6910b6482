import re

_WORD = re.compile(r"[a-z0-9']+")


def word_count(text):
    counts = {}
    for word in _WORD.findall(text.lower()):
        counts[word] = counts.get(word, 0) + 1
    return counts


def top_words(text, n):
    counts = word_count(text)
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return ranked[:n]
