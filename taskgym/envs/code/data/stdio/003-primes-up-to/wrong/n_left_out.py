n = int(input())
primes = [i for i in range(2, n) if all(i % d for d in range(2, i))]
print(" ".join(map(str, primes)))
