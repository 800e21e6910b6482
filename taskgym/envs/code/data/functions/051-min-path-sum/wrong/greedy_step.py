def min_path_sum(grid):
    r = c = 0
    total = grid[0][0]
    while r < len(grid) - 1 or c < len(grid[0]) - 1:
        down = grid[r + 1][c] if r < len(grid) - 1 else float("inf")
        right = grid[r][c + 1] if c < len(grid[0]) - 1 else float("inf")
        if down <= right:
            r += 1
        else:
            c += 1
        total += grid[r][c]
    return total
