import collections
import json
import re
import sys

report_path, log_path = sys.argv[1], sys.argv[2]
pattern = re.compile(r'"\S+ (\S+) [^"]*" (\d{3}) (\S+)$')
total, size_sum, statuses, paths = 0, 0, collections.Counter(), collections.Counter()
for line in open(log_path):
    match = pattern.search(line.strip())
    if match:
        total += 1
        path, status, size = match.groups()
        statuses[status] += 1
        paths[path] += 1
        size_sum += 0 if size == "-" else int(size)
top = max(paths.values())
expected = {
    "total": total,
    "by_status": dict(statuses),
    "top_path": next(p for p in paths if paths[p] == top),
    "bytes": size_sum,
}
try:
    report = json.load(open(report_path))
except (OSError, ValueError):
    report = {}
if not isinstance(report, dict):
    report = {}
scores = {key: float(report.get(key) == value) for key, value in expected.items()}
print(json.dumps({"reward": sum(scores.values()) / len(scores), **scores}))
