#!/bin/bash
set -e
cd /app/repo
grep -rlE '(^|[^A-Z0-9])AKIA[A-Z0-9]{16}([^A-Z0-9]|$)' . | sed 's|^\./||' | LC_ALL=C sort -u > /tmp/leaks.txt
cp /tmp/leaks.txt /app/leaks.txt
