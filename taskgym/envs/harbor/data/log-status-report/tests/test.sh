#!/bin/bash
# Partial credit: the fraction of the report's fields that are right, in reward.json.
# grade.py reads the agent's report as data only; `-I` keeps everything of the agent's
# off its sys.path and out of its start-up (working directory, user site-packages,
# PYTHON* variables). Its output is the reward, written last.
chmod 700 /tests /logs/verifier
python3 -I /tests/grade.py /app/report.json /tests/access.log > /logs/verifier/reward.json
