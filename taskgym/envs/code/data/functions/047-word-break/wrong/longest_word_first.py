def word_break(s, words):
    while s:
        match = max((w for w in words if s.startswith(w)), key=len, default=None)
        if match is None:
            return False
        s = s[len(match) :]
    return True
