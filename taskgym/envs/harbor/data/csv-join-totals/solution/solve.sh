#!/bin/bash
set -e
cd /app
cat > /tmp/totals.py <<'PY'
import csv
from decimal import Decimal
customers = {row["id"]: row for row in csv.DictReader(open("/app/customers.csv"))}
totals = {}
for order in csv.DictReader(open("/app/orders.csv")):
    if order["customer_id"] in customers:
        key = order["customer_id"]
        totals[key] = totals.get(key, Decimal(0)) + Decimal(order["amount"])
rows = sorted(totals.items(), key=lambda item: (-item[1], customers[item[0]]["name"]))
with open("/app/totals.csv.tmp", "w", newline="") as out:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "country", "total"])
    for key, total in rows:
        writer.writerow([customers[key]["name"], customers[key]["country"], f"{total:.2f}"])
PY
python3 /tmp/totals.py
mv /app/totals.csv.tmp /app/totals.csv
