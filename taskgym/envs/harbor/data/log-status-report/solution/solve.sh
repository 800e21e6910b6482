#!/bin/bash
set -e
cd /app
cat > /tmp/report.py <<'PY'
import collections, json, re
pattern = re.compile(r'"\S+ (\S+) [^"]*" (\d{3}) (\S+)$')
total, sizes, statuses, paths = 0, 0, collections.Counter(), collections.Counter()
for line in open("/app/access.log"):
    match = pattern.search(line.strip())
    if not match:
        continue
    total += 1
    path, status, size = match.groups()
    statuses[status] += 1
    paths[path] += 1
    sizes += 0 if size == "-" else int(size)
top = max(paths.values())
top_path = next(p for p in paths if paths[p] == top)
report = {"total": total, "by_status": dict(statuses), "top_path": top_path, "bytes": sizes}
json.dump(report, open("/app/report.json.tmp", "w"), indent=2)
PY
python3 /tmp/report.py
mv /app/report.json.tmp /app/report.json
