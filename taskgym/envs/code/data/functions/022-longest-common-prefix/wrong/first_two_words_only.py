def common_prefix(words):
    if len(words) < 2:
        return words[0] if words else ""
    a, b = words[0], words[1]
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return a[:i]
