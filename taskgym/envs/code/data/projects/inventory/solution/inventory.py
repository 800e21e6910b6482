class OutOfStock(ValueError):
    """Raised when more items are taken than there are."""


class Inventory:
    def __init__(self):
        self._stock = {}

    def add(self, item, count=1):
        if count < 1:
            raise ValueError("count must be at least 1")
        self._stock[item] = self._stock.get(item, 0) + count

    def take(self, item, count=1):
        have = self._stock.get(item, 0)
        if count > have:
            raise OutOfStock(f"only {have} of {item}")
        self._stock[item] = have - count

    def count(self, item):
        return self._stock.get(item, 0)

    def items(self):
        return sorted((item, n) for item, n in self._stock.items() if n)
