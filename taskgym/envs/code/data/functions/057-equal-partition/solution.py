def can_partition(xs):
    total = sum(xs)
    if total % 2:
        return False
    reachable = {0}
    for x in xs:
        reachable |= {r + x for r in reachable}
    return total // 2 in reachable
