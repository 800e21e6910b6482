def running_max(xs):
    out, m = [], 0
    for x in xs:
        m = max(m, x)
        out.append(m)
    return out
