def int_to_roman(n):
    parts = [(1000, "M"), (500, "D"), (100, "C"), (50, "L"), (10, "X"), (5, "V"), (1, "I")]
    out = ""
    for value, numeral in parts:
        while n >= value:
            out += numeral
            n -= value
    return out
