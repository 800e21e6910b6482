"""pass@k (the unbiased estimator, its intervals, per env and per task), replaying a run
file's episodes, and regrading stored episodes with today's graders."""

from __future__ import annotations

import itertools
import json
from math import comb
from typing import Any

import pytest

from taskgym import ConfigError
from taskgym.agents import make_agent
from taskgym.evaluation import pass_at_k, pass_at_k_table, regrade, replay_specs, solved
from taskgym.parallel import make_executor
from taskgym.runner import run_episodes
from tests.helpers import timeless

EASY = "taskgym/ArithmeticEasy-v0"


@pytest.mark.parametrize(("n", "c"), [(5, 0), (5, 2), (6, 3), (4, 4)])
def test_pass_at_k_is_the_chance_that_one_of_k_drawn_samples_solves(n: int, c: int) -> None:
    samples = [True] * c + [False] * (n - c)
    for k in range(1, n + 1):
        draws = list(itertools.combinations(samples, k))
        assert len(draws) == comb(n, k)
        exact = sum(any(d) for d in draws) / len(draws)
        assert pass_at_k(n, c, k) == pytest.approx(exact)


def test_pass_at_k_refuses_impossible_counts() -> None:
    with pytest.raises(ConfigError, match="pass@k"):
        pass_at_k(3, 4, 1)
    with pytest.raises(ConfigError, match="pass@k"):
        pass_at_k(3, 1, 4)


def _record(env: str, task: str, ok: bool, reward: float | None = None) -> dict[str, Any]:
    return {
        "env_id": env,
        "task_id": task,
        "reward": float(ok) if reward is None else reward,
        "verdict": {"solved": ok},
    }


def test_the_table_per_env_and_per_task() -> None:
    records = [
        _record("A", f"t{t}", ok)
        for t in range(6)
        for ok in ([True, False, False] if t % 2 else [False, False, False])
    ] + [_record("B", "only", True), _record("B", "only", True)]
    a, b = pass_at_k_table(records, ks=(1, 2, 5))
    assert (a.env_id, a.problems, a.samples) == ("A", 6, 3)
    assert a.pass_at[1] == pytest.approx(0.5 / 3)  # half the problems, 1 in 3 each
    assert a.pass_at[2] == pytest.approx(0.5 * (1 - comb(2, 2) / comb(3, 2)))
    assert 5 not in a.pass_at  # more than the 3 samples a problem
    low, high = a.interval[1]
    assert low <= a.pass_at[1] <= high
    assert pass_at_k_table(records, ks=(1,))[0].interval[1] == (low, high)  # every time
    assert b.pass_at == {1: 1.0, 2: 1.0} and b.interval == {}  # one problem: no interval
    per_task = pass_at_k_table(records, ks=(1,), per_task=True)
    assert [(r.env_id, r.task_id) for r in per_task][:2] == [("A", "t0"), ("A", "t1")]
    assert per_task[1].pass_at[1] == pytest.approx(1 / 3)


def test_solved_reads_the_verdict_and_else_the_reward() -> None:
    assert solved({"verdict": {"solved": True}, "reward": 0.0})
    assert not solved({"verdict": {"solved": False}, "reward": 1.0})
    assert solved({"reward": 1.0}) and not solved({"reward": 0.9})


def test_a_replay_of_the_recorded_actions_reaches_the_same_run() -> None:
    options = {"reward": "binary"}
    plain = [
        r.to_json()
        for r in run_episodes(EASY, make_agent("oracle"), episodes=4, seed=2, make_kwargs=options)
    ]
    with make_executor("inline", concurrency=2) as executor:
        again = [r.record for r in executor.map(replay_specs(plain))]
    # the same episodes, played by the scripted agent
    assert [{**r, "agent": "oracle"} for r in timeless(again)] == timeless(plain)
    # with the recorded agent instead of its actions
    with make_executor("inline") as executor:
        rerun = [r.record for r in executor.map(replay_specs(plain, actions=False))]
    assert [r.reward for r in rerun if r] == [r["reward"] for r in plain]


def test_regrading_reports_what_a_grader_change_moved() -> None:
    records = [r.to_json() for r in run_episodes(EASY, make_agent("null"), episodes=2)]
    records += [r.to_json() for r in run_episodes(EASY, make_agent("oracle"), episodes=2)]
    records[3] = {**records[3], "reward": 0.0, "verdict": {"solved": False}}  # an old bug
    regraded = regrade(records)
    assert [r.changed for r in regraded] == [False, False, False, True]
    assert (regraded[3].old_reward, regraded[3].new_reward) == (0.0, 1.0)
    # another reward spec, given as a run's options would give it
    assert all(r.error is None for r in regrade(records, reward="format"))


def test_an_episode_that_cannot_be_regraded_says_why() -> None:
    (bad,) = regrade([{**_record("taskgym/Nope-v0", "x", True), "actions": ["1"], "seed": 0}])
    assert bad.changed and bad.new_reward is None and "Nope" in str(bad.error)


# -- the command line ----------------------------------------------------------------------


def test_run_with_samples_prints_pass_at_k(tmp_path: Any, capsys: Any) -> None:
    from taskgym.cli import main

    out = tmp_path / "run.jsonl"
    args = ["run", "ArithmeticEasy-v0", "--episodes", "5", "--samples", "4", "--out", str(out)]
    assert main([*args, "--per-task"]) == 0
    printed = capsys.readouterr().out
    assert "pass@1" in printed and "pass@2" in printed and "pass@4" in printed
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 20 and [r["sample"] for r in lines[:4]] == [0, 1, 2, 3]
    assert len({r["task_id"] for r in lines[:4]}) == 1  # four samples of one problem
    assert "1.000 [1.00, 1.00]" in printed  # the oracle: pass@k 1 and its interval


def test_run_replay_reaches_the_recorded_rewards(tmp_path: Any, capsys: Any) -> None:
    from taskgym.cli import main

    first, again = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert (
        main(["run", "ArithmeticEasy-v0", "MathGen-v0", "--episodes", "2", "--out", str(first)])
        == 0
    )
    assert main(["run", "--replay", str(first), "--out", str(again)]) == 0
    assert "4 of 4 episodes reached their recorded reward" in capsys.readouterr().out
    old = [json.loads(line) for line in first.read_text().splitlines()]
    new = [json.loads(line) for line in again.read_text().splitlines()]
    assert [(r["task_id"], r["reward"]) for r in new] == [(r["task_id"], r["reward"]) for r in old]
    assert main(["run", "ArithmeticEasy-v0", "--replay", str(first)]) == 2


def test_regrade_says_which_verdicts_changed(tmp_path: Any, capsys: Any) -> None:
    from taskgym.cli import main

    run = tmp_path / "run.jsonl"
    assert main(["run", "ArithmeticEasy-v0", "--episodes", "3", "--out", str(run)]) == 0
    lines = run.read_text().splitlines()
    doctored = json.loads(lines[1])
    doctored["reward"], doctored["verdict"]["solved"] = 0.0, False  # as an old bug graded
    run.write_text("\n".join([lines[0], json.dumps(doctored), lines[2]]) + "\n")
    capsys.readouterr()
    out = tmp_path / "regraded.jsonl"
    assert main(["regrade", str(run), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2 of 3 episodes graded as before" in printed
    assert [json.loads(line)["changed"] for line in out.read_text().splitlines()] == [
        False,
        True,
        False,
    ]
    assert main(["regrade", str(run), "--check"]) == 1
