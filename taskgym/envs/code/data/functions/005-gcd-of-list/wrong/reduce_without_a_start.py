from functools import reduce
from math import gcd


def gcd_list(xs):
    return reduce(gcd, xs)
