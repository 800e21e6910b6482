from collections import deque


def network_delay(n, edges, source):
    adj = [[] for _ in range(n)]
    for u, v, w in edges:
        adj[u].append((v, w))
    dist = [None] * n
    dist[source] = 0
    queue = deque([source])
    while queue:
        u = queue.popleft()
        for v, w in adj[u]:
            if dist[v] is None:
                dist[v] = dist[u] + w
                queue.append(v)
    return -1 if None in dist else max(dist)
