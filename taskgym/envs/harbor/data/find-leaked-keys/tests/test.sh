#!/bin/bash
cd /app
if [ -f /app/leaks.txt ] && diff -u /tests/expected.txt /app/leaks.txt \
   && [ "$(cd /app/repo && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum)" = "$(cat /tests/tree.sha256)" ]; then
  echo 1 > /logs/verifier/reward.txt
else
  echo 0 > /logs/verifier/reward.txt
fi
