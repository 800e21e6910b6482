import pytest
from lru import LRUCache


def test_put_and_get():
    cache = LRUCache(2)
    cache.put("a", 1)
    assert cache.get("a") == 1
    assert cache.get("missing") is None
    assert cache.get("missing", 0) == 0


def test_evicts_least_recently_used():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")
    cache.put("c", 3)
    assert cache.get("b") is None
    assert cache.keys() == ["a", "c"]


def test_put_existing_key_updates_and_refreshes():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"]
    assert cache.get("a") == 10


def test_len():
    cache = LRUCache(3)
    for key in "abcde":
        cache.put(key, key.upper())
    assert len(cache) == 3
    assert cache.keys() == ["c", "d", "e"]


def test_capacity_one():
    cache = LRUCache(1)
    cache.put(1, "x")
    cache.put(2, "y")
    assert cache.keys() == [2]


@pytest.mark.parametrize("bad", [0, -3])
def test_bad_capacity(bad):
    with pytest.raises(ValueError):
        LRUCache(bad)


def test_values_of_any_kind():
    cache = LRUCache(2)
    cache.put((1, 2), [3, 4])
    assert cache.get((1, 2)) == [3, 4]
