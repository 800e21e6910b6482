def shortest_path(n, edges, s, t):
    adj = [[] for _ in range(n)]
    for u, v in edges:
        adj[u].append(v)
        adj[v].append(u)
    seen = set()

    def dfs(u, d):
        if u == t:
            return d
        seen.add(u)
        for v in adj[u]:
            if v not in seen:
                found = dfs(v, d + 1)
                if found != -1:
                    return found
        return -1

    return dfs(s, 0)
