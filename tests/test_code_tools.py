"""Tool mode (CodeTestsTools-v0, runs=N): the agent runs its own code in the sandbox,
sees what it printed, then submits; hidden tests grade only the submission."""

from __future__ import annotations

import gymnasium as gym
import pytest

from taskgym import ConfigError
from taskgym.sandboxes import resolve_sandbox_name
from tests.conftest import require_backend

FIRST_TASK = "reverse-words"


@pytest.fixture
def env() -> gym.Env:  # type: ignore[type-arg]
    env = gym.make("taskgym/CodeTestsTools-v0")
    yield env
    env.close()


def test_the_reference_runs_an_example_then_submits(env: gym.Env) -> None:  # type: ignore[type-arg]
    obs, _ = env.reset(seed=0)
    assert "<run>" in obs and "4 time(s)" in obs
    run, submission = env.unwrapped.problem.solution  # type: ignore[attr-defined]
    obs, reward, terminated, truncated, _ = env.step(run)
    assert obs.startswith("exit code 0\n--- stdout ---\n") and "[3 run(s) left]" in obs
    assert (reward, terminated, truncated) == (0.0, False, False)
    _, reward, terminated, _, info = env.step(submission)
    assert reward == 1.0 and terminated and info["turn"] == 2


def test_a_run_shows_crashes_and_time_outs(env: gym.Env) -> None:  # type: ignore[type-arg]
    env.reset(seed=0)
    obs, *_ = env.step("<run>\n```python\nprint('hi')\nraise ValueError('bad')\n```\n</run>")
    assert obs.startswith("exit code 1") and "hi" in obs and "ValueError: bad" in obs
    obs, *_ = env.step("<run>while True: pass</run>")
    assert obs.startswith("timed out")
    obs, *_ = env.step("<run>print('x' * 100000)</run>")
    assert "characters cut" in obs and len(obs) < 10_000


def test_runs_are_counted_and_the_turn_limit_grades_no_submission(env: gym.Env) -> None:  # type: ignore[type-arg]
    env.reset(seed=0)
    for left in (3, 2, 1, 0):
        obs, *_ = env.step("<run>print(1)</run>")
        assert f"[{left} run(s) left]" in obs
    _, reward, terminated, truncated, info = env.step("<run>print(1)</run>")
    assert truncated and not terminated and reward == 0.0
    assert info["verdict"]["parsed"] is False


def test_a_submission_without_a_code_block_is_a_format_failure(env: gym.Env) -> None:  # type: ignore[type-arg]
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step("I am done.")
    assert terminated and reward == 0.0 and info["verdict"]["parsed"] is False


def test_runs_do_not_carry_state_and_cannot_reach_the_hidden_tests(env: gym.Env) -> None:  # type: ignore[type-arg]
    if resolve_sandbox_name("auto") == "local":
        require_backend("bwrap")  # local hides nothing (docs/sandboxes.md): skip, or fail in CI
    env.reset(options={"task_id": FIRST_TASK})
    obs, *_ = env.step(
        "<run>open('keep.txt', 'w').write('x'); print(len(__import__('os').listdir('..')))</run>"
    )
    assert obs.startswith("exit code 0")
    obs, *_ = env.step("<run>import os; print(os.path.exists('keep.txt'))</run>")
    assert "False" in obs  # a fresh directory each run
    # Hidden expected values live only on the host: search everything the run can read.
    search = (
        "<run>import os\nhits = []\n"
        "for top in ('/usr', '/etc', '/tmp', '..'):\n"
        "    for root, _, files in os.walk(top, onerror=lambda e: None):\n"
        "        for n in files:\n"
        "            if n.endswith('.jsonl') or n == 'task.json':\n"
        "                hits.append(os.path.join(root, n))\n"
        "print(hits)</run>"
    )
    obs, *_ = env.step(search)
    assert "data/functions/" not in obs


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"runs": -1}, "runs must be an int >= 0"),
        ({"runs": 2, "attempts": 2}, "do not combine"),
    ],
)
def test_bad_options_say_what_is_wrong(options: dict[str, int], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        gym.make("taskgym/CodeTests-v0", **options)
