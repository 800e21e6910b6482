def min_path_sum(grid):
    rows, cols = len(grid), len(grid[0])
    best = [[0] * cols for _ in range(rows)]
    for r in range(rows):
        for c in range(cols):
            if r == 0 and c == 0:
                best[r][c] = grid[0][0]
            else:
                up = best[r - 1][c] if r else float("inf")
                left = best[r][c - 1] if c else float("inf")
                best[r][c] = grid[r][c] + min(up, left)
    return best[-1][-1]
