def knapsack(weights, values, capacity):
    total = 0
    for w, v in sorted(zip(weights, values, strict=True), key=lambda p: -p[1] / p[0]):
        if w <= capacity:
            capacity -= w
            total += v
    return total
