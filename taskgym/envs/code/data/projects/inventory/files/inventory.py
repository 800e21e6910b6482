class OutOfStock(ValueError):
    """Raised when more items are taken than there are."""


class Inventory:
    def add(self, item, count=1):
        raise NotImplementedError

    def take(self, item, count=1):
        raise NotImplementedError

    def count(self, item):
        raise NotImplementedError

    def items(self):
        raise NotImplementedError
