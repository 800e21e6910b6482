def is_bipartite(n, edges):
    adj = [[] for _ in range(n)]
    for u, v in edges:
        adj[u].append(v)
        adj[v].append(u)
    colour = [-1] * n
    if n == 0:
        return True
    colour[0] = 0
    stack = [0]
    while stack:
        u = stack.pop()
        for v in adj[u]:
            if colour[v] == -1:
                colour[v] = 1 - colour[u]
                stack.append(v)
            elif colour[v] == colour[u]:
                return False
    return True
