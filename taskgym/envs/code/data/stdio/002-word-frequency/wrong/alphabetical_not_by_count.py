import re
import sys
from collections import Counter

counts = Counter(re.findall(r"[a-z]+", sys.stdin.read().lower()))
for word, n in sorted(counts.items()):
    print(word, n)
