import pytest
from textstats import top_words, word_count
from textstats.counting import word_count as word_count_in_module


def test_simple():
    assert word_count("a b a") == {"a": 2, "b": 1}


def test_case_and_punctuation():
    assert word_count("Don't stop, don't!") == {"don't": 2, "stop": 1}


def test_whitespace_of_all_kinds():
    assert word_count("one\ttwo\n\nthree  one") == {"one": 2, "two": 1, "three": 1}


def test_empty():
    assert word_count("") == {}
    assert word_count("  ...  ") == {}


def test_digits_are_words():
    assert word_count("route 66, route 1") == {"route": 2, "66": 1, "1": 1}


def test_same_function_both_ways():
    assert word_count_in_module("x y") == word_count("x y")


@pytest.mark.parametrize(
    ("text", "n", "expected"),
    [
        ("b a b c c c", 2, [("c", 3), ("b", 2)]),
        ("pear apple fig", 2, [("apple", 1), ("fig", 1)]),
        ("A a B b c", 3, [("a", 2), ("b", 2), ("c", 1)]),
        ("solo", 5, [("solo", 1)]),
        ("", 3, []),
    ],
)
def test_top_words(text, n, expected):
    assert top_words(text, n) == expected
