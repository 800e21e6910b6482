import json

import pytest


@pytest.fixture
def report():
    with open("report.json") as f:
        return json.load(f)


def test_counts_the_orders(report):
    assert report["orders"] == 4


def test_sums_the_amounts(report):
    assert report["total"] == 100


def test_lists_the_customers_sorted(report):
    assert report["customers"] == ["acme", "globex", "initech"]
