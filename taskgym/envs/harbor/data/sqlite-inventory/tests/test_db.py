import sqlite3

import pytest


@pytest.fixture()
def db():
    connection = sqlite3.connect("file:/app/inventory.db?mode=ro", uri=True)
    yield connection
    connection.close()


def test_schema(db):
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["items"]
    columns = [(r[1], r[2].upper(), r[3], r[5]) for r in db.execute("PRAGMA table_info(items)")]
    assert columns == [("name", "TEXT", 0, 1), ("qty", "INTEGER", 1, 0), ("price", "REAL", 1, 0)]


def test_rows(db):
    rows = sorted(db.execute("SELECT name, qty, price FROM items"))
    assert rows == [
        ("Washer", 5, 0.03),
        ("bolt M4", 120, 0.06),
        ("hinge", 4, 2.5),
        ("nut M4", 300, 0.025),
        ("washer", 75, 0.01),
    ]
    assert all(type(qty) is int for _, qty, _ in rows)
