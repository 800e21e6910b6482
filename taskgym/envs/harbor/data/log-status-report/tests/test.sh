#!/bin/bash
# Partial credit: the fraction of the report's fields that are right, in reward.json.
python3 /tests/grade.py /app/report.json /tests/access.log > /logs/verifier/reward.json
