def components(n, edges):
    return n - len(edges)
