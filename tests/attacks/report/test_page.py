"""Attacks on the report page (taskgym/report.py) through what a run file holds: an
agent's replies, and any field of a record (a task id from a task file, a model name an
endpoint chose, a verdict's details, a file's name). Each must be text on the page and
run nothing in a real headless Chromium, both as the page ships (its
Content-Security-Policy forbids scripts) and with that policy removed (escaping alone);
values the page cannot show are refused with the record named, and a huge transcript
is cut instead of making a huge page.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest

from taskgym.cli import main
from taskgym.report import group_runs, render_html
from taskgym.run_file import load_run
from tests.openai_server import completion
from tests.report_helpers import HOSTILE, browse, chat_run, probe

TAGS = ("<script", "<img", "<svg", "</textarea", '<a href="javascript', "</details><")


@pytest.fixture(scope="module")
def hostile_chat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A chat model's run whose every reply is markup, as its text and as the arguments
    of a tool call, with more in its reasoning."""
    path = tmp_path_factory.mktemp("attack") / "chat.jsonl"

    def reply(body: dict[str, Any]) -> dict[str, Any]:
        answer = completion(HOSTILE)
        answer["choices"][0]["message"]["reasoning_content"] = HOSTILE
        return answer

    chat_run(path, reply, episodes=2)
    return path


def _everywhere(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with markup in every field the page shows."""
    return {
        **record,
        "env_id": f"taskgym/{HOSTILE}-v0",
        "task_id": HOSTILE,
        "agent": HOSTILE,
        "agent_stats": {"model": HOSTILE, "prompt_tokens": 1},
        "agent_options": {"model": HOSTILE},
        "verdict": {"solved": False, "details": {"failure": HOSTILE}},
        "options": {HOSTILE: HOSTILE},
        "sandbox": HOSTILE,
        "taskgym_version": HOSTILE,
        "sample": HOSTILE,
        "episode": HOSTILE,
        "seed": HOSTILE,
        "actions": [HOSTILE],
        "observations": [HOSTILE, HOSTILE],
        "messages": [
            {"role": HOSTILE, "name": HOSTILE, "content": [{"type": "text", "text": HOSTILE}]},
            {"role": "assistant", "tool_calls": [{"function": {"name": HOSTILE}}]},
            HOSTILE,
        ],
    }


def _body(page: str) -> str:
    return page.split("</style>", 1)[1]


def test_a_chat_models_markup_is_text_on_the_page(hostile_chat: Path) -> None:
    page = render_html(load_run(hostile_chat), "attack")
    assert not [tag for tag in TAGS if tag in _body(page)]
    assert html.escape(HOSTILE) in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_markup_in_every_field_of_a_record_and_in_a_file_name_is_text(
    hostile_chat: Path,
) -> None:
    record = _everywhere(load_run(hostile_chat)[0])
    page = render_html(group_runs({HOSTILE: [record, record]}), HOSTILE)
    assert not [tag for tag in TAGS if tag in _body(page)]
    assert page.count(html.escape(HOSTILE)) > 20


@pytest.mark.integration
def test_in_chromium_a_chat_models_markup_runs_nothing(hostile_chat: Path) -> None:
    page = hostile_chat.with_suffix(".html")
    assert main(["report", str(hostile_chat), "--out", str(page)]) == 0
    dom = browse(page, "--dump-dom")  # as shipped: escaped, and under its policy
    assert "<title>taskgym run chat.jsonl</title>" in dom
    assert "pwned" not in dom.split("</head>")[0]
    found = probe(page)  # escaping alone: the policy removed, a script of ours added
    assert found["title"] == "taskgym run chat.jsonl"
    assert (found["scripts"], found["images"], found["handlers"]) == (1, 0, [])


@pytest.mark.integration
def test_in_chromium_markup_in_every_field_runs_nothing(hostile_chat: Path) -> None:
    record = _everywhere(load_run(hostile_chat)[0])
    page = hostile_chat.with_name("everywhere.html")
    page.write_text(render_html(group_runs({HOSTILE: [record]}), "everywhere"))
    assert "pwned" not in browse(page, "--dump-dom").split("</head>")[0]
    found = probe(page)
    assert found["title"] == "everywhere"
    assert (found["scripts"], found["images"], found["handlers"]) == (1, 0, [])


@pytest.mark.parametrize(
    "case",
    [
        ("reward", "1; background:url(//x)", "has the reward '1; background:url(//x)'"),
        ("reward", float("nan"), "has the reward nan, not a finite number"),
        ("rewards", [1, "<b>"], "has rewards that are not a list of numbers"),
        ("actions", "<script>", "has actions that are not a list"),
    ],
)
def test_values_the_page_cannot_show_are_refused_naming_the_record(
    tmp_path: Path,
    hostile_chat: Path,
    capsys: pytest.CaptureFixture[str],
    case: tuple[str, Any, str],
) -> None:
    field, value, said = case
    records = load_run(hostile_chat)
    records[1][field] = value
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["report", str(bad)]) == 2
    assert f"bad.jsonl: episode record 2 {said}" in capsys.readouterr().err
    assert not bad.with_suffix(".html").exists()  # no page half written


def test_a_huge_transcript_is_cut_to_a_page_of_bounded_size(hostile_chat: Path) -> None:
    record = load_run(hostile_chat)[0]
    huge = {
        **record,
        "messages": [{"role": "assistant", "content": "x" * 100_000}] * 20_000,
    }
    cut = {**record, "messages": [], "actions": ["y" * 10_000_000]}
    page = render_html([huge, cut], "huge")
    assert len(page) < 2_000_000
    assert "[... 19700 more not shown]" in page
    assert "[... 9996000 more characters]" in page


def test_fields_of_other_types_than_taskgym_writes_are_shown_as_text(hostile_chat: Path) -> None:
    record = load_run(hostile_chat)[0]
    odd = {
        **record,
        "env_id": [HOSTILE],
        "task_id": {"id": HOSTILE},
        "agent_options": [HOSTILE],
        "agent_stats": HOSTILE,
        "verdict": HOSTILE,
        "messages": [{"role": "assistant", "content": {"x": HOSTILE}, "tool_calls": HOSTILE}],
    }
    page = render_html([odd, record], "odd")
    assert not [tag for tag in TAGS if tag in _body(page)]
    assert html.escape(str([HOSTILE])) in page  # the env id, as text
