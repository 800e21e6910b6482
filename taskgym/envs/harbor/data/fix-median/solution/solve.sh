#!/bin/bash
set -e
cd /app
python3 - <<'PY'
import re
source = open("stats.py").read()
fixed = '''def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
'''
open("stats.py.new", "w").write(re.sub(r"def median\(values\):\n(?:    .*\n)+", fixed, source))
PY
mv stats.py.new stats.py
