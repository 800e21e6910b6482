def max_meetings(intervals):
    count, free_at = 0, float("-inf")
    for start, end in sorted(intervals, key=lambda m: m[1]):
        if start >= free_at:
            count += 1
            free_at = end
    return count
