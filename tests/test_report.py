"""taskgym report: the page and the table from run files, compared run by run, checked
in a real headless Chromium (Debian's chromium) where it is installed.

The runs are real: the oracle and the null agent through ``taskgym run``, and the
openai agent over HTTP against a scripted chat server (tests/openai_server.py: the
protocol is real, the model a table of answers) playing each problem four times, so
the page has tokens, cost, chat transcripts and pass@k. The attacks on the page are in
tests/attacks/report/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from taskgym import ConfigError
from taskgym.agents import make_agent
from taskgym.cli import main
from taskgym.report import Run, group_runs, render_html, summary_rows, usage
from taskgym.run_file import load_run, open_run_file, write_record
from taskgym.runner import run_episodes
from tests.helpers import registered
from tests.openai_server import completion
from tests.report_helpers import HOSTILE, browse, chat_run, probe

LONG_ENV = "taskgym/ArithmeticEasyUnderANameLongEnoughToWrapInsteadOfRunningIntoTheBars-v0"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("runs")
    files = {name: folder / f"{name}.jsonl" for name in ("oracle", "null", "chat")}
    # Two agents in one file, whose name is long enough to wrap where runs are named.
    files["long"] = folder / "two-agents-on-an-env-whose-id-is-long-too.jsonl"
    envs = ["ArithmeticEasy-v0", "ArithmeticRetry-v0"]
    assert main(["run", *envs, "--episodes", "5", "--out", str(files["oracle"])]) == 0
    args = ["run", *envs, "--agent", "null", "--episodes", "5", "--out", str(files["null"])]
    assert main(args) == 0
    _chat_run(files["chat"], load_run(files["oracle"]))
    arithmetic = "taskgym.envs.math.arithmetic:ArithmeticTask"
    with (
        registered(LONG_ENV, arithmetic, difficulty="easy"),
        open_run_file(files["long"]) as out,
    ):
        for agent in ("oracle", "null"):
            for record in run_episodes(LONG_ENV, make_agent(agent), episodes=3):
                write_record(out, record)
    return files


def _chat_run(path: Path, oracle: list[dict[str, Any]]) -> None:
    """The openai agent on ArithmeticEasy-v0, five problems four samples each: a scripted
    model that answers problem n right on n of its four tries (a table of the oracle's
    answers), and on the fifth problem writes markup instead."""
    answers = {r["observations"][0]: r["actions"][0] for r in oracle if "Easy" in r["env_id"]}
    prompts = list(answers)
    tries: dict[str, int] = {}

    def reply(body: dict[str, Any]) -> dict[str, Any]:
        prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
        n, tries[prompt] = prompts.index(prompt), tries.get(prompt, 0) + 1
        if n == 4:
            return completion(HOSTILE, prompt_tokens=120, completion_tokens=30)
        right = tries[prompt] <= n
        return completion(answers[prompt] if right else "-1", prompt_tokens=100)

    chat_run(path, reply, episodes=5, samples=4)


def _page(runs: dict[str, Path], *names: str, extra: tuple[str, ...] = ()) -> tuple[Path, str]:
    out = runs["oracle"].parent / f"{'-'.join(names)}.html"
    args = ["report", *(str(runs[n]) for n in names), "--out", str(out), *extra]
    assert main(args) == 0
    return out, out.read_text(encoding="utf-8")


# -- what the page holds -----------------------------------------------------------------


def test_the_summary_has_a_row_an_env_with_rewards_pass_rates_and_turns(
    runs: dict[str, Path],
) -> None:
    rows = {r.env_id: r for r in summary_rows(load_run(runs["null"]))}
    easy, retry = rows["taskgym/ArithmeticEasy-v0"], rows["taskgym/ArithmeticRetry-v0"]
    assert (easy.episodes, easy.mean_reward, easy.pass_rate, easy.mean_turns) == (5, 0, 0, 1)
    assert (retry.episodes, retry.mean_reward, retry.pass_rate, retry.mean_turns) == (5, 0, 0, 3)


def test_a_file_of_two_agents_is_two_runs_and_files_are_named_apart(
    runs: dict[str, Path],
) -> None:
    found = group_runs({"two.jsonl": load_run(runs["long"]), "chat": load_run(runs["chat"])})
    assert [(r.name, r.agent, r.model, len(r.records)) for r in found] == [
        ("two.jsonl · oracle", "oracle", None, 3),
        ("two.jsonl · null", "null", None, 3),
        ("chat", "openai", "scripted-7b", 20),
    ]


def test_tokens_and_cost_are_the_sums_the_agent_reported(runs: dict[str, Path]) -> None:
    spent = usage(load_run(runs["chat"]))
    assert spent is not None
    # 16 replies of 100 + 5 tokens, 4 of 120 + 30; USD 2 and 8 a million in and out.
    assert (spent.episodes, spent.requests) == (20, 20)
    assert (spent.prompt_tokens, spent.completion_tokens, spent.tokens) == (2080, 200, 2280)
    assert spent.cost_usd == pytest.approx((2080 * 2 + 200 * 8) / 1e6)
    assert usage(load_run(runs["oracle"])) is None  # the oracle spends nothing


def test_taskgym_report_compares_runs_side_by_side(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(runs["oracle"]), str(runs["null"]), str(runs["chat"])]) == 0
    out = capsys.readouterr().out
    assert "oracle.jsonl  taskgym/ArithmeticEasy-v0   5         1.000        100.0%" in out
    assert "chat.jsonl    taskgym/ArithmeticEasy-v0   20        0.300        30.0%" in out
    page = (runs["oracle"].parent / "oracle-vs-null-vs-chat.html").read_text()
    table = _element(page, "table", "runs")
    assert table.count("<tr>") == 4  # the header and a row a run
    assert "scripted-7b" in table and "2,280 (2,080 + 200)" in table  # tokens
    assert "<td>0.0058</td>" in table  # USD
    # Every env each run played, a bar each, to scale.
    chart = _element(page, "div", "reward-chart")
    assert chart.count('class="track"') == 5
    assert 'data-value="1" style="left:0%;width:100%' in chart
    assert 'data-value="0.3" style="left:0%;width:30%' in chart


def test_the_per_task_table_puts_the_tasks_where_runs_differ_first_and_marks_them(
    runs: dict[str, Path],
) -> None:
    _, page = _page(runs, "oracle", "chat")
    rows = re.findall(
        r"<tr( class=\"differs\")?><td>([^<]*)</td><td>([^<]*)</td>(.*?)</tr>",
        _element(page, "table", "tasks"),
    )
    assert len(rows) == 10  # five problems of two envs; chat played only the easy ones
    differs = [task for marked, _, task, _ in rows if marked]
    # The chat run solved problem n on n of its 4 tries, the oracle each: all five easy
    # ones differ; the retry ones, which only the oracle played, do not.
    assert len(differs) == 5 and rows[:5] == [r for r in rows if r[0]]
    cells = [cells for marked, _, _, cells in rows if marked]
    assert all("solved)" in c for c in cells)  # samples: how many of them solved
    assert "(0/4 solved)" in cells[0] and 'href="#episode-1-' in cells[0]
    # Every link leads to a transcript on the page.
    links = re.findall(r'href="#([^"]+)"', page)
    assert len(links) == 15 and all(f'id="{link}"' in page for link in links)  # 10 + 5


def test_pass_at_k_is_shown_for_runs_with_several_samples_a_problem(
    runs: dict[str, Path],
) -> None:
    _, page = _page(runs, "chat")
    table = _element(page, "table", "pass-at-k")
    # Problems solved 0..3 of 4 times and one never: pass@1 = (0+1+2+3+0)/4/5 = 0.3;
    # pass@4 = 3/5 (unbiased estimator, taskgym.evaluation); a bootstrap interval each.
    assert "<td>5</td><td>4</td><td>0.300 [" in table and "<td>0.600 [" in table
    _, single = _page(runs, "oracle")
    assert 'id="pass-at-k"' not in single  # one sample a problem: no pass@k
    # Nor where seeds drew one problem twice and the others once.
    records = load_run(runs["oracle"])
    assert 'id="pass-at-k"' not in render_html([*records, records[0]], "x")


def test_each_episode_has_its_transcript_and_a_chat_agent_its_messages(
    runs: dict[str, Path],
) -> None:
    _, page = _page(runs, "null", "chat")
    assert page.count('<details class="episode"') == 30
    assert "action 3 (reward 0)" in page  # ArithmeticRetry's three turns, each paid
    assert '<div class="who">system</div>' in page and '<div class="who">assistant</div>' in page
    assert "&quot;prompt_tokens&quot;: 100" in page  # what the agent reported, per episode
    _, few = _page(runs, "null", "chat", extra=("--transcripts", "2"))
    assert few.count('<details class="episode"') == 4
    assert "2 of 20 episode transcripts (taskgym report --transcripts N holds more)" in few


def test_rewards_outside_zero_to_one_widen_the_axis_and_keep_bars_to_scale(
    runs: dict[str, Path],
) -> None:
    records = load_run(runs["oracle"])[:2]
    records[0] = {**records[0], "reward": 2.0}
    records[1] = {**records[1], "reward": -1.0, "env_id": "taskgym/Other-v0"}
    page = render_html(records, "wide")
    assert "reward axes run from -1 to 2" in page
    chart = _element(page, "div", "reward-chart")
    # On -1..2, zero is a third of the way: 2 runs from there to the end, -1 back to 0.
    assert 'data-value="2" style="left:33.33%;width:66.67%' in chart
    assert 'data-value="-1" style="left:0%;width:33.33%' in chart


def test_bad_input_is_refused_with_what_to_do(
    tmp_path: Path, runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"env_id": "x", "reward": 1, "actions": [], "observations": []}\nnot json\n')
    with pytest.raises(ConfigError, match=r"bad.jsonl:2: not JSON .*is this a run file"):
        load_run(bad)
    bad.write_text('{"reward": 1}\n')
    with pytest.raises(ConfigError, match="not an episode record"):
        load_run(bad)
    with pytest.raises(ConfigError, match="nothing to report"):
        render_html(list[Run](), "x")
    assert main(["report", str(runs["null"]), str(runs["null"])]) == 2
    assert "null.jsonl is named twice; name each run file once" in capsys.readouterr().err
    assert main(["report", str(runs["null"]), str(tmp_path / "none.jsonl")]) == 2
    assert "none.jsonl" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="2"):
        main(["report", str(runs["null"]), "--transcripts", "-1"])
    assert "a whole number >= 0, not '-1'" in capsys.readouterr().err


# -- in a browser ------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("width", [1200, 560])
def test_in_chromium_bars_are_to_scale_and_labels_fit(runs: dict[str, Path], width: int) -> None:
    page, _ = _page(runs, "long", "chat", "oracle")
    found = probe(page, width)
    reward_bars = [b for b in found["bars"] if b["chart"] == "reward-chart"]
    assert len(reward_bars) == 5  # long: oracle, null; chat; oracle: two envs
    for bar in found["bars"]:
        track, drawn = bar["track"], bar["bar"]
        if bar["chart"] in ("reward-chart", "pass-chart"):  # 0..1: the length is the value
            assert drawn["width"] == pytest.approx(bar["value"] * track["width"], abs=1)
            assert drawn["left"] == pytest.approx(track["left"], abs=1)
        assert drawn["right"] <= track["right"] + 1
        if bar["axis"]:  # the axis under the bars spans their tracks exactly
            assert bar["axis"]["left"] == pytest.approx(track["left"], abs=1)
            assert bar["axis"]["width"] == pytest.approx(track["width"], abs=1)
    # Every label is whole in its box (wrapped, never cut or spilling) and clear of bars.
    assert found["labels"]
    cut = [label["text"] for label in found["labels"] if label["scroll"] > label["client"] + 1]
    assert cut == []
    assert found["overlaps"] == []
    long_label = next(lab for lab in found["labels"] if lab["text"] == LONG_ENV)
    assert long_label["box"]["height"] > 20 or width > 1000  # wrapped where narrow
    assert found["pageWidth"] <= found["viewWidth"]  # nothing pushes the page sideways


@pytest.mark.integration
def test_in_chromium_the_page_has_its_tables_and_a_screenshot(runs: dict[str, Path]) -> None:
    page, _ = _page(runs, "oracle", "null")
    dom = browse(page, "--dump-dom")
    assert '<table id="runs">' in dom and '<table id="tasks">' in dom
    shot = page.parent / "page.png"
    browse(page, f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _element(page: str, tag: str, element_id: str) -> str:
    """The markup from the element with ``element_id`` to the end of a table, or for a
    chart (whose divs nest) to the next heading."""
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</table>" if tag == "table" else "<h2>", start)]
