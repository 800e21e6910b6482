"""Executors: episodes from specs, played inline or in worker processes, with failures
that stay with their own episode."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskgym import ConfigError, UnknownNameError
from taskgym.agents import make_agent
from taskgym.cli import main
from taskgym.parallel import (
    EnvCache,
    EpisodeSpec,
    Executor,
    as_completed,
    make_executor,
    play_spec,
)
from taskgym.runner import run_episodes
from tests.conftest import require_module
from tests.hazard_envs import HAZARD
from tests.helpers import timeless

EASY = "taskgym/ArithmeticEasy-v0"


def hazard(n: int) -> EpisodeSpec:
    """Problem hazard-n: its check kills the worker (n ends in 7), hangs (8), raises (9)."""
    return EpisodeSpec(HAZARD, task_id=f"hazard-{n}", episode=n)


def _records(results: list) -> list[dict]:
    return timeless(r.record for r in results)


@pytest.mark.parametrize("name", ["inline", "process"])
def test_an_executor_plays_the_same_episodes_as_a_plain_loop(name: str) -> None:
    plain = timeless(run_episodes(EASY, make_agent("oracle"), episodes=6, seed=3))
    specs = [EpisodeSpec(EASY, seed=3 + i, episode=i) for i in range(6)]
    with make_executor(name, concurrency=2) as executor:
        results = list(executor.map(specs))
    assert all(r.ok for r in results)
    assert _records(results) == plain


def test_a_spec_replays_a_problem_with_any_agent_and_options() -> None:
    spec = EpisodeSpec(
        "taskgym/Arithmetic-v0",
        task_id="arithmetic-medium-5",
        agent="null",
        kwargs={"reward": "format"},
    )
    with EnvCache() as envs:
        result = play_spec(spec, envs)
    assert result.record is not None and result.record.task_id == "arithmetic-medium-5"
    assert result.record.reward == 0.0 and result.record.actions == [""]


def test_specs_hold_json_only_and_bad_names_say_what_to_do() -> None:
    with pytest.raises(ConfigError, match="JSON values"):
        EpisodeSpec(EASY, kwargs={"reward": lambda outcome: 1.0})
    with pytest.raises(UnknownNameError, match="'inline', 'process'"):
        make_executor("threads")
    with pytest.raises(ConfigError, match="use executor 'process'"):
        make_executor("inline", timeout=5)
    with pytest.raises(ConfigError, match="concurrency"):
        make_executor("inline", concurrency=0)


def test_a_failing_episode_is_a_result_not_a_crash() -> None:
    with make_executor("inline") as executor:
        broken, unknown, fine = executor.map(
            [hazard(9), EpisodeSpec("taskgym/NoSuch-v0"), hazard(0)]
        )
    assert "a broken check" in (broken.error or "")
    assert unknown.error_type == "NameNotFound"
    assert fine.ok and fine.record is not None and fine.record.reward == 1.0


def test_a_worker_that_dies_takes_only_its_own_episode_down() -> None:
    specs = [hazard(n) for n in range(10) if n not in (5, 6, 8, 9)]
    with make_executor("process", concurrency=2) as executor:
        results = list(executor.map(specs))
        # The pool goes on: the replaced worker plays more.
        again = list(executor.map([hazard(n) for n in range(4)]))
    died = [r for r in results if not r.ok]
    assert [r.spec.episode for r in died] == [7]
    assert "the worker process died (exit code 7); the worker was replaced" in (died[0].error or "")
    assert all(r.ok and r.record.reward == 1.0 for r in results if r.spec.episode != 7)
    assert all(r.ok for r in again)


def test_an_episode_past_its_time_fails_and_its_worker_is_replaced() -> None:
    with make_executor("process", concurrency=2, timeout=1.5) as executor:
        start = time.monotonic()
        futures = [executor.submit(hazard(n)) for n in (8, 0, 1, 2)]
        done = {f.result().spec.episode: f.result() for f in as_completed(futures)}
        took = time.monotonic() - start
    assert "ran out of time (1.5 s)" in (done[8].error or "")
    assert all(done[s].ok for s in (0, 1, 2))
    assert took < 10


def test_a_worker_plays_its_share_of_the_episodes_at_once() -> None:
    # Each check of hazard-N6 waits until four are running in its process: one worker
    # with four episodes in flight passes them all, in threads.
    with make_executor("process", concurrency=4, workers=1) as executor:
        assert executor.episodes_per_worker == 4  # type: ignore[attr-defined]
        results = list(executor.map([hazard(n) for n in (6, 16, 26, 36)]))
    assert all(r.ok and r.record.reward == 1.0 for r in results), results


@pytest.mark.slow
def test_a_worker_that_dies_fails_the_episodes_it_held_and_no_others() -> None:
    with make_executor("process", concurrency=3, workers=1) as executor:
        slow = [executor.submit(hazard(n)) for n in (5, 15)]
        died = executor.submit(hazard(7))
        lost = [f.result() for f in [*slow, died]]
        after = list(executor.map([hazard(n) for n in range(3)]))
    assert all("the worker process died (exit code 7)" in (r.error or "") for r in lost)
    assert all(r.ok for r in after)


@pytest.mark.slow
def test_a_late_episode_fails_alone_and_its_worker_is_replaced_after_the_others() -> None:
    with make_executor("process", concurrency=2, workers=1, timeout=3.0) as executor:
        hung = executor.submit(hazard(8))  # out of time at 3 s
        time.sleep(1.5)
        slow = executor.submit(hazard(5))  # runs from 1.5 s to 3.5 s, on the same worker
        assert "ran out of time (3 s)" in (hung.result().error or "")
        assert slow.result().ok  # not killed with the hung one
        assert all(r.ok for r in executor.map([hazard(n) for n in range(3)]))


def test_workers_and_concurrency_are_checked() -> None:
    with pytest.raises(ConfigError, match="workers"):
        make_executor("process", workers=0)
    with pytest.raises(ConfigError, match="no workers"):
        make_executor("inline", workers=2)


_SCRIPT = """
from taskgym.parallel import EpisodeSpec, make_executor

def play():
    with make_executor("process", concurrency=2, timeout=60) as executor:
        specs = [EpisodeSpec("taskgym/ArithmeticEasy-v0", seed=s) for s in range(3)]
        print("rewards", [r.record.reward if r.ok else r.error for r in executor.map(specs)])
"""


@pytest.mark.parametrize("guarded", [False, True])
def test_a_script_without_a_main_guard_is_told_why_its_workers_die(
    tmp_path: Path, guarded: bool
) -> None:
    """spawn re-runs the main module in each worker: made at module level, the executor
    would start again in every worker, which dies. The script is told so, naming the
    fix, instead of every episode failing with "the worker process died"."""
    import subprocess
    import sys

    script = tmp_path / "train.py"
    call = 'if __name__ == "__main__":\n    play()\n' if guarded else "play()\n"
    script.write_text(_SCRIPT + call)
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    if guarded:
        assert result.returncode == 0, result.stderr
        assert "rewards [1.0, 1.0, 1.0]" in result.stdout
        return
    assert result.returncode == 1 and "rewards" not in result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("taskgym.errors.ConfigError: a worker process died while starting")
    assert str(script) in last and 'under `if __name__ == "__main__":`' in last


def test_taskgym_run_through_an_executor_writes_the_same_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = {}
    for how in ([], ["--executor", "process", "--concurrency", "2"]):
        out = tmp_path / f"run{len(how)}.jsonl"
        args = ["run", "ArithmeticEasy-v0", "MathGen-v0", "--episodes", "3", "--out", str(out)]
        assert main([*args, *how]) == 0
        runs[len(how)] = [json.loads(line) for line in out.read_text().splitlines()]
    assert timeless(runs[0]) == timeless(runs[4]) and len(runs[0]) == 6
    assert main(["run", "ArithmeticEasy-v0", "--concurrency", "2"]) == 2
    assert "go with --executor" in capsys.readouterr().err


# -- Ray: a real local cluster ------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ray_executor() -> Iterator[Executor]:
    """Two actors on a real local Ray cluster (ray.init(num_cpus=2)), whose workers find
    the test envs on PYTHONPATH."""
    require_module("ray", "ray")
    init = {"num_cpus": 2, "runtime_env": {"env_vars": {"PYTHONPATH": str(ROOT)}}}
    with make_executor("ray", concurrency=2, timeout=20, init=init) as executor:
        yield executor


@pytest.mark.integration
def test_ray_plays_the_same_episodes_as_a_plain_loop(ray_executor: Executor) -> None:
    plain = timeless(run_episodes(EASY, make_agent("oracle"), episodes=8, seed=1))
    specs = [EpisodeSpec(EASY, seed=1 + i, episode=i) for i in range(8)]
    assert _records(list(ray_executor.map(specs))) == plain
    # Multi-turn episodes, each played whole on one actor.
    retry = [EpisodeSpec("taskgym/ArithmeticRetry-v0", seed=s, agent="null") for s in range(4)]
    assert all(r.ok and r.record.turns == 3 for r in ray_executor.map(retry))


@pytest.mark.integration
def test_a_ray_actor_that_dies_takes_only_its_own_episode_down(ray_executor: Executor) -> None:
    results = list(ray_executor.map([hazard(n) for n in (0, 7, 1, 9, 2)]))
    by_episode = {r.spec.episode: r for r in results}
    assert "the Ray actor failed" in (by_episode[7].error or "")
    assert "a broken check" in (by_episode[9].error or "")
    assert all(by_episode[n].ok for n in (0, 1, 2))
    assert all(r.ok for r in ray_executor.map([hazard(n) for n in range(4)]))


@pytest.mark.integration
def test_a_ray_episode_past_its_time_fails(ray_executor: Executor) -> None:
    ray_executor.timeout = 2.0  # type: ignore[attr-defined]
    try:
        late, fine = ray_executor.map([hazard(8), hazard(3)])
    finally:
        ray_executor.timeout = 20.0  # type: ignore[attr-defined]
    assert "ran out of time (2 s)" in (late.error or "")
    assert fine.ok


@pytest.mark.integration
def test_a_ray_actor_plays_many_episodes_at_once(ray_executor: Executor) -> None:
    # On the fixture's cluster: one threaded actor, four episodes that must overlap.
    with make_executor("ray", concurrency=4, workers=1) as executor:
        results = list(executor.map([hazard(n) for n in (6, 16, 26, 36)]))
    assert all(r.ok and r.record.reward == 1.0 for r in results), results


@pytest.mark.integration
def test_grade_many_spreads_over_ray_actors(ray_executor: Executor) -> None:
    import taskgym

    pairs = [(f"arithmetic-easy-{i}", "<answer>0</answer>") for i in range(6)]
    assert taskgym.grade_many(EASY, pairs, executor=ray_executor) == taskgym.grade_many(
        EASY, pairs, workers=1
    )


def test_every_driver_refuses_an_env_that_is_not_taskgyms() -> None:
    import taskgym
    from taskgym import ConformanceError
    from taskgym.parallel import EpisodePool
    from taskgym.testing import check_task
    from taskgym.trainers import prompt_rows

    message = "CartPole-v1 is not a taskgym env .*taskgym.register_task"
    with pytest.raises(ConfigError, match=message):
        taskgym.grade_many("CartPole-v1", [("x", "y")])
    with EpisodePool(concurrency=1) as pool, pytest.raises(ConfigError, match=message):
        pool.start(EpisodeSpec("CartPole-v1"))
    with EnvCache() as cache, pytest.raises(ConfigError, match=message):
        cache.env(EpisodeSpec("CartPole-v1"))
    with pytest.raises(ConfigError, match=message):
        list(run_episodes("CartPole-v1", make_agent("null"), episodes=1))
    with pytest.raises(ConfigError, match=message):
        prompt_rows("CartPole-v1", count=1)
    with pytest.raises(ConformanceError, match=message):
        check_task("CartPole-v1")
