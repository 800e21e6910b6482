#!/bin/bash
set -e
cat > /usr/local/bin/wordfreq.new <<'PY'
#!/usr/bin/env python3
import collections, re, sys
limit, path = int(sys.argv[1]), sys.argv[2]
words = re.findall(r"[A-Za-z]+", open(path, encoding="utf-8", errors="replace").read())
counts = collections.Counter(w.lower() for w in words)
for word, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]:
    print(count, word)
PY
chmod +x /usr/local/bin/wordfreq.new
mv /usr/local/bin/wordfreq.new /usr/local/bin/wordfreq
