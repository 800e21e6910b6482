from inventory import Inventory


def test_add_then_count():
    inventory = Inventory()
    inventory.add("apple", 3)
    assert inventory.count("apple") == 3
