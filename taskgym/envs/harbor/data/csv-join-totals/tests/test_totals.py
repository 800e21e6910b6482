import csv
from decimal import Decimal
from pathlib import Path


def expected_rows():
    customers = {r["id"]: r for r in csv.DictReader(open("/tests/customers.csv"))}
    totals = {}
    for order in csv.DictReader(open("/tests/orders.csv")):
        if order["customer_id"] in customers:
            totals[order["customer_id"]] = totals.get(order["customer_id"], Decimal(0)) + Decimal(
                order["amount"]
            )
    ordered = sorted(totals.items(), key=lambda item: (-item[1], customers[item[0]]["name"]))
    return [[customers[k]["name"], customers[k]["country"], f"{t:.2f}"] for k, t in ordered]


def test_totals_file():
    path = Path("/app/totals.csv")
    assert path.is_file()
    rows = list(csv.reader(path.read_text().splitlines()))
    assert rows[0] == ["name", "country", "total"]
    assert rows[1:] == expected_rows()
