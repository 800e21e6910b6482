def topo_order(n, edges):
    out = [[] for _ in range(n)]
    for u, v in edges:
        out[u].append(v)
    seen, order = set(), []

    def visit(u):
        if u in seen:
            return
        seen.add(u)
        for v in out[u]:
            visit(v)
        order.append(u)

    for u in range(n):
        visit(u)
    return order[::-1]
