"""The one JSON Lines reader behind task files, run files and HumanEval's file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from taskgym import ConfigError
from taskgym.envs.code.humaneval import load_humaneval
from taskgym.jsonl import read_json_objects


def test_objects_come_with_file_and_line_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n\n  \n{"b": 2}\n')
    assert list(read_json_objects(path, what="task file", item="task")) == [
        (f"{path}:1", {"a": 1}),
        (f"{path}:4", {"b": 2}),
    ]


def test_a_gz_file_is_read_compressed(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write('{"a": 1}\n')
    assert [raw for _, raw in read_json_objects(path, what="task file", item="task")] == [{"a": 1}]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"a": 1}\n[1]\n', r"x.jsonl:2: a task is a JSON object, not a list"),
        (b'{"a": 1}\n{"a": \n', r"x.jsonl:2: not JSON .*is this a task file\?"),
        (b"\xff\xfe binary", r"cannot read the task file .*x.jsonl"),
    ],
)
def test_bad_lines_and_unreadable_files_are_config_errors(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        list(read_json_objects(path, what="task file", item="task"))


def test_a_gz_file_that_is_not_gzip_says_so(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    path.write_text('{"a": 1}\n')
    with pytest.raises(ConfigError, match=r"cannot read the task file .*x\.jsonl\.gz"):
        list(read_json_objects(path, what="task file", item="task"))


def test_a_humaneval_line_that_is_not_an_object_is_named(tmp_path: Path) -> None:
    # It used to reach record.get() and fail with an AttributeError.
    path = tmp_path / "HumanEval.jsonl"
    path.write_text("[1, 2]\n")
    with pytest.raises(ConfigError, match=r"HumanEval.jsonl:1: a task is a JSON object"):
        load_humaneval(path)
