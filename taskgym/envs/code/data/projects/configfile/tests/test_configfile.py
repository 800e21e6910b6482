import pytest
from configfile import ParseError, parse


def test_sections_and_keys():
    text = "[server]\nhost = example.org\nport=8080\n\n[client]\nretries = 3\n"
    assert parse(text) == {
        "server": {"host": "example.org", "port": "8080"},
        "client": {"retries": "3"},
    }


def test_comments_and_blank_lines():
    assert parse("# top\n[a]\n; note\n\n  x = 1  \n") == {"a": {"x": "1"}}


def test_value_may_hold_equals_signs():
    assert parse("[a]\nurl = http://h/?q=1\n") == {"a": {"url": "http://h/?q=1"}}


def test_repeated_section_merges():
    assert parse("[a]\nx=1\n[b]\n[a]\ny=2\n") == {"a": {"x": "1", "y": "2"}, "b": {}}


def test_empty_text():
    assert parse("") == {}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("x = 1\n", 1),
        ("[a]\nx = 1\njunk\n", 3),
        ("# c\n\n[ ]\n", 3),
    ],
)
def test_errors_name_the_line(text, line):
    with pytest.raises(ParseError, match=f"^line {line}:"):
        parse(text)


def test_parse_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse("oops\n")
