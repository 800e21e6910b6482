def capitalize_words(s):
    return s.title()
