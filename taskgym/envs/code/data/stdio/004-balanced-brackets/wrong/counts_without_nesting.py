import sys

for line in sys.stdin.read().split():
    ok = all(line.count(a) == line.count(b) for a, b in ("()", "[]", "{}"))
    print("YES" if ok else "NO")
