import math


def gcd_list(xs):
    g = 0
    for x in xs:
        g = math.gcd(g, x)
    return g
