import importlib.util

import pytest


def load():
    spec = importlib.util.spec_from_file_location("stats", "/app/stats.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "values, expected",
    [([3], 3), ([5, 1, 3], 3), ([4, 1, 3, 2], 2.5), ([-2, 7], 2.5), ([1.5, 0.5, 9, 2, 2], 2)],
)
def test_median(values, expected):
    assert load().median(list(values)) == expected


def test_input_is_not_changed():
    values = [9, 1, 5, 3]
    load().median(values)
    assert values == [9, 1, 5, 3]


def test_other_functions_kept():
    stats = load()
    assert stats.mean([1, 2, 3, 6]) == 3
    assert stats.spread([4, -1, 10]) == 11
