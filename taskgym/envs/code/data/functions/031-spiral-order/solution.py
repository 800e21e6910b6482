def spiral(matrix):
    out = []
    m = [list(r) for r in matrix]
    while m:
        out += m.pop(0)
        m = [list(r) for r in zip(*m, strict=True)][::-1]
    return out
