import pytest
from inventory import Inventory, OutOfStock


@pytest.fixture
def inv():
    return Inventory()


def test_add_and_count(inv):
    inv.add("apple", 3)
    inv.add("apple")
    assert inv.count("apple") == 4


def test_unknown_item_counts_zero(inv):
    assert inv.count("kiwi") == 0


def test_take(inv):
    inv.add("pear", 2)
    inv.take("pear")
    assert inv.count("pear") == 1


def test_take_everything(inv):
    inv.add("fig", 2)
    inv.take("fig", 2)
    assert inv.count("fig") == 0
    assert inv.items() == []


def test_out_of_stock(inv):
    inv.add("plum")
    with pytest.raises(OutOfStock):
        inv.take("plum", 2)
    assert inv.count("plum") == 1


def test_out_of_stock_is_a_value_error(inv):
    with pytest.raises(ValueError):
        inv.take("plum")


@pytest.mark.parametrize("bad", [0, -1])
def test_bad_count(inv, bad):
    with pytest.raises(ValueError):
        inv.add("x", bad)
    assert inv.count("x") == 0


def test_items_sorted(inv):
    inv.add("b")
    inv.add("a", 2)
    assert inv.items() == [("a", 2), ("b", 1)]


def test_inventories_are_separate():
    first, second = Inventory(), Inventory()
    first.add("a")
    assert second.count("a") == 0
    assert isinstance(first, Inventory)
