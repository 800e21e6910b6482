import sys

lines = sys.stdin.read().split()
r, c = int(lines[0]), int(lines[1])
grid = lines[2 : 2 + r]
ways = [[0] * c for _ in range(r)]
for i in range(r):
    for j in range(c):
        if grid[i][j] == "#":
            continue
        if i == 0 and j == 0:
            ways[i][j] = 1
            continue
        up = ways[i - 1][j] if i else 0
        left = ways[i][j - 1] if j else 0
        ways[i][j] = (up + left) % 1000000007
print(ways[r - 1][c - 1])
