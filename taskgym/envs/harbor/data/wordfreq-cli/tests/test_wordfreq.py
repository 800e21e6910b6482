import subprocess

import pytest

TEXT = """Alpha beta, gamma! alpha? BETA alpha -- don't stop; Stop.
Zeta zeta eta: it's 42 o'clock\tand   ALPHA again.
"""


def run(*args):
    return subprocess.run(["wordfreq", *args], capture_output=True, text=True, timeout=20)


@pytest.fixture()
def text_file(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text(TEXT)
    return str(path)


def test_top_three(text_file):
    result = run("3", text_file)
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["4 alpha", "2 beta", "2 stop"]


def test_ties_alphabetical(text_file):
    lines = run("7", text_file).stdout.splitlines()
    assert lines == ["4 alpha", "2 beta", "2 stop", "2 zeta", "1 again", "1 and", "1 clock"]


def test_fewer_words_than_asked(tmp_path):
    path = tmp_path / "small.txt"
    path.write_text("one Two one")
    assert run("10", str(path)).stdout.splitlines() == ["2 one", "1 two"]
