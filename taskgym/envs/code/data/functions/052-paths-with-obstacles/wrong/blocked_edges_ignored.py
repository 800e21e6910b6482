def count_paths(grid):
    rows, cols = len(grid), len(grid[0])
    ways = [[1] * cols for _ in range(rows)]
    for r in range(1, rows):
        for c in range(1, cols):
            ways[r][c] = 0 if grid[r][c] else ways[r - 1][c] + ways[r][c - 1]
    return ways[-1][-1]
