import sys

data = sys.stdin.read().split()
r, c = int(data[0]), int(data[1])
values = data[2:]
for j in range(c):
    print(" ".join(values[i * c + j] for i in range(r)))
