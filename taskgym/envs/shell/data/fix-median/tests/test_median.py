import pytest
from stats import median


def test_odd_length():
    assert median([3, 1, 2]) == 2


def test_even_length_is_the_mean_of_the_middle_two():
    assert median([4, 1, 3, 2]) == 2.5


def test_one_value():
    assert median([7]) == 7


@pytest.mark.parametrize(("values", "expected"), [([10, -10], 0), ([5, 5, 1, 9], 5)])
def test_more(values, expected):
    assert median(values) == expected
