def count_islands(grid):
    seen = set()
    count = 0
    for r in range(len(grid)):
        for c in range(len(grid[0])):
            if grid[r][c] == "1" and (r, c) not in seen:
                count += 1
                stack = [(r, c)]
                while stack:
                    y, x = stack.pop()
                    if (y, x) in seen or not (0 <= y < len(grid) and 0 <= x < len(grid[0])):
                        continue
                    if grid[y][x] != "1":
                        continue
                    seen.add((y, x))
                    for dy in (-1, 0, 1):
                        for dx in (-1, 0, 1):
                            stack.append((y + dy, x + dx))
    return count
