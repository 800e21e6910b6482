import sys

pairs = {")": "(", "]": "[", "}": "{"}
for raw in sys.stdin.read().split("\n"):
    line = raw.strip()
    if not line:
        continue
    stack = []
    ok = True
    for ch in line:
        if ch in "([{":
            stack.append(ch)
        elif not stack or stack.pop() != pairs[ch]:
            ok = False
            break
    print("YES" if ok and not stack else "NO")
