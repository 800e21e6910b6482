#!/bin/bash
set -e
cat > /tmp/load.py <<'PY'
import csv, sqlite3
rows = {}
for row in csv.DictReader(open("/app/items.csv")):
    qty, _ = rows.get(row["name"], (0, 0.0))
    rows[row["name"]] = (qty + int(row["qty"]), float(row["price"]))
db = sqlite3.connect("/tmp/inventory.db")
db.execute("CREATE TABLE items (name TEXT PRIMARY KEY, qty INTEGER NOT NULL, price REAL NOT NULL)")
db.executemany("INSERT INTO items VALUES (?, ?, ?)", [(n, q, p) for n, (q, p) in rows.items()])
db.commit()
db.close()
PY
rm -f /tmp/inventory.db && python3 /tmp/load.py
mv /tmp/inventory.db /app/inventory.db
