def max_profit(prices):
    return max(prices) - min(prices) if prices else 0
