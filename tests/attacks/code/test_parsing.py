"""The host reads the agent's text (project blocks, code fences, <run> tags) in time
linear in its length, with its size capped first: a megabyte of unclosed tags is answered
at once. The project parser once took quadratic time (a regular expression with lazy
bodies: 1 MiB of ``<run>`` tags ran for minutes)."""

from __future__ import annotations

import random
import re
import time

import pytest

from taskgym.core import Problem
from taskgym.envs.code import project
from taskgym.envs.code.functions import _run_code
from taskgym.envs.code.project import Block, ProjectTestsTask, parse_blocks
from taskgym.envs.common.extract import extract_code
from taskgym.sandboxes.fake import FakeSandbox

MIB = 1 << 20
# Each about a megabyte, and each once quadratic (but the last two, kept as controls).
FLOODS = {
    "unclosed <run> tags": "<run>" * (MIB // 5),
    "unclosed <write> tags": '<write path="a.py">' * (MIB // 19),
    "write tags without their quote": '<write path="' * (MIB // 13),
    "read tags without their end": '<read path="a"' * (MIB // 14),
    "submit tags and white space": "<submit" * (MIB // 14) + " " * MIB,
    "one read tag and white space to the end": '<read path="a"' + " " * MIB,
}


def _played(action: str) -> tuple[str, FakeSandbox]:
    task = ProjectTestsTask()
    problem: Problem = task.problem(0)
    box = FakeSandbox()
    return task.interact(problem, (), action, box).observation, box


@pytest.mark.parametrize("flood", list(FLOODS))
def test_a_megabyte_of_unclosed_tags_is_read_at_once(flood: str) -> None:
    start = time.monotonic()
    observation, box = _played(FLOODS[flood])
    assert time.monotonic() - start < 5.0  # the old pattern took minutes on the first
    assert "No action found" in observation and box.calls == [] and box.files == {}


def test_the_parser_reads_what_the_old_pattern_read() -> None:
    """The old regular expression is the specification on small texts."""
    old = re.compile(
        r'<write path="(?P<write>[^"]*)">\n?(?P<content>.*?)</write>'
        r'|<read path="(?P<read>[^"]*)"\s*/>'
        r"|<run>(?P<run>.*?)</run>"
        r"|(?P<submit><submit\s*/>)",
        re.DOTALL,
    )

    def by_pattern(text: str) -> list[Block]:
        blocks = []
        for m in old.finditer(text):
            if m["write"] is not None:
                blocks.append(Block("write", m["write"], m["content"]))
            elif m["read"] is not None:
                blocks.append(Block("read", m["read"]))
            elif m["run"] is not None:
                blocks.append(Block("run", text=m["run"]))
            else:
                blocks.append(Block("submit"))
        return blocks

    pieces = [
        '<write path="', '<read path="', "<run>", "</run>", "</write>", "<submit", "/>",
        '">', '"', " ", "\n", "\u2028", "a", "<", '<write path="a.py">', '<read path="b"/>',
        "<submit/>", "<run>ls</run>",
    ]  # fmt: skip
    rng = random.Random(7)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert parse_blocks(text) == by_pattern(text), text


def test_an_action_past_the_size_cap_is_refused_unread() -> None:
    action = '<write path="a.py">x</write>' + " " * project._MAX_ACTION_CHARS
    observation, box = _played(action)
    assert observation.startswith("Nothing was done") and box.files == {}


def test_blocks_past_the_limit_of_a_turn_are_not_done() -> None:
    limit = project._MAX_BLOCKS
    action = "".join(f'<write path="f{i}.py">{i}</write>' for i in range(limit + 10))
    observation, box = _played(action + "<submit/>")
    assert len(box.files) == limit and f"Only the first {limit} blocks" in observation
    assert "Submitted" not in observation  # the submit was past the limit too


def test_a_path_too_long_for_a_project_is_refused_before_the_sandbox_sees_it() -> None:
    deep = "d/" * 2000 + "x.py"  # the host would make 2,000 nested directories
    observation, box = _played(f'<write path="{deep}">x</write><read path="{deep}"/>')
    assert box.files == {} and observation.count("failed (a path has 1024 characters") == 2


@pytest.mark.parametrize(
    "action",
    [
        "<run>" * MIB,
        "```" * (MIB // 3),
        "```python\n" + "`" * MIB,
        "<run>```" * (MIB // 8),
        "<run>" + "```\n" * (MIB // 4),
    ],
)
def test_code_fences_and_run_tags_are_found_in_linear_time(action: str) -> None:
    start = time.monotonic()
    extract_code(action)
    _run_code(action)
    assert time.monotonic() - start < 2.0
