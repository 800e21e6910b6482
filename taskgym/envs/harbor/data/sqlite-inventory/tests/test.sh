#!/bin/bash
# Runs after the agent's last turn, as root, from the working directory (the agent's).
# None of the agent's files runs with the tests' rights: `-I` keeps the working
# directory, user site-packages and PYTHON* variables off sys.path; `-c` makes
# tests/pytest.ini pytest's only configuration (nothing above /tests is read); no
# plugin is loaded from installed packages. /tests and /logs/verifier are closed to
# every other user.
chmod 700 /tests /logs/verifier
if PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -c /tests/pytest.ini -q \
  -p no:cacheprovider /tests/test_db.py; then
  reward=1
else
  reward=0
fi
# The tests' verdict alone, written last (the grader reads reward.json before reward.txt).
rm -f /logs/verifier/reward.json
echo "$reward" > /logs/verifier/reward.txt
