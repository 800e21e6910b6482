import sys

data = sys.stdin.read().split()
r, c = int(data[0]), int(data[1])
values = data[2:]
for i in range(r):
    print(" ".join(values[i * c : (i + 1) * c]))
