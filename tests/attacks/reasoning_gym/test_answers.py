"""Attacks on ReasoningGym-v0's grading with nothing but the agent's text: code in the
answer that reasoning-gym's scoring functions evaluate (``eval(answer)``, sympy's
``parse_expr``) and that forges the worker's reply; answers that hedge (every option, the
reference and more, extra text its lenient parsers skip); several answer blocks; answers
that are very long, make ``score_answer`` raise, or hang it. Each earns 0 and raises
nothing.

Broke through before the defence (each checked with reasoning-gym's own ``score_answer``
or with the worker's audit hook taken out, in the tests marked so): the forged reply
(1.0), every hedge and extra text (1.0 from ``score_answer``).
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Iterator
from pathlib import Path

import gymnasium as gym
import pytest

import taskgym
from taskgym.envs.common.confined import ConfinedWorker
from tests.conftest import require_module
from tests.helpers import confined_worker

ENV = "taskgym/ReasoningGym-v0"
WORKER = Path(taskgym.__file__).parent / "envs" / "reasoning_gym" / "score_worker.py"

# Python that writes a reply shaped like the worker's, with the id of the request being
# scored (found on the stack), on the worker's reply descriptor: 1.0 for anything.
FORGE = (
    "[__import__('os').write(int(__import__('sys').argv[1]), ('{\"id\": \"%s\", "
    "\"score\": 1.0}\\n' % next(f.f_locals['request']['id'] for f, _ in "
    "__import__('traceback').walk_stack(None) if 'request' in f.f_locals)).encode())]"
)
# The same, dressed for other parsers and without names that start with "_".
FORGE_VARIANTS = [
    FORGE,
    "(lambda: " + FORGE + ")()",
    "[x for x in " + FORGE + "]",
    'exec("' + FORGE.replace('"', '\\"') + '")',
    "eval(chr(95)*2 + 'import' + chr(95)*2 + \"('os').system('true')\")",
    "open('/proc/self/fd/1', 'w')",
]
# Datasets whose score_answer evaluates the answer: eval(answer), or sympy's parse_expr.
EVALUATING = {
    "spiral_matrix": "rg/spiral_matrix/1",
    "binary_matrix": "rg/binary_matrix/1",
    "n_queens": "rg/n_queens/1",
    "string_insertion": "rg/string_insertion/1",
    "countdown": "rg/countdown/1",
    "puzzle24": "rg/puzzle24/1",
    "polynomial_multiplication": "rg/polynomial_multiplication/1",
    "simple_integration": "rg/simple_integration/1",
}


@pytest.fixture(scope="module")
def env() -> Iterator[gym.Env[str, str]]:
    require_module("reasoning_gym", "reasoning-gym")
    made = gym.make(ENV, score_seconds=3.0)
    yield made
    made.close()


def _play(env: gym.Env[str, str], task_id: str, action: str) -> tuple[float, dict[str, object]]:
    env.reset(options={"task_id": task_id})
    _, reward, terminated, _, info = env.step(action)
    assert terminated
    return float(reward), info["verdict"]  # type: ignore[return-value]


def _own_score(task_id: str, answer: str) -> float:
    """reasoning-gym's own score_answer of ``answer``, taskgym's form checks left out."""
    from taskgym.envs.reasoning_gym import datasets

    _, name, seed = task_id.split("/")
    return datasets.score_answer(name, None, {}, int(seed), answer, seconds=10.0).value


@pytest.mark.parametrize("answer", FORGE_VARIANTS)
@pytest.mark.parametrize("name", sorted(EVALUATING))
def test_code_in_an_answer_never_runs_and_forges_nothing(
    env: gym.Env[str, str], name: str, answer: str
) -> None:
    reward, verdict = _play(env, EVALUATING[name], f"<answer>{answer}</answer>")
    assert reward == 0.0, verdict
    assert verdict["details"]["score"] in (None, 0.0, 0.01)  # type: ignore[index]


def test_the_forged_reply_broke_through_without_the_audit_hook(tmp_path: Path) -> None:
    """The attack is real: the worker without its audit hook takes the forged 1.0."""
    require_module("reasoning_gym", "reasoning-gym")
    source = WORKER.read_text(encoding="utf-8")
    assert "    sys.addaudithook(_audit)\n" in source
    unhooked = tmp_path / "score_worker.py"
    unhooked.write_text(source.replace("    sys.addaudithook(_audit)\n", ""), encoding="utf-8")
    spec = importlib.util.find_spec("reasoning_gym")
    assert spec is not None and spec.origin is not None
    site = os.path.dirname(os.path.dirname(spec.origin))
    request = {"op": "score", "dataset": "spiral_matrix", "level": None, "config": {}, "seed": 1}
    for script, expected in ((str(unhooked), 1.0), (str(WORKER), 0.0)):
        worker = ConfinedWorker(
            script, args=(site,), binds=(site,), env={"PYTHONHASHSEED": "0"}, python_args=("-s",)
        )
        try:
            assert worker.ask({**request, "answer": FORGE}, 30.0)["score"] == expected
        finally:
            worker.close()


HEDGES = [
    # game_of_life_halting pays any answer that is not empty: every option too.
    ("rg/game_of_life_halting/0", "True False"),
    ("rg/game_of_life_halting/0", "False, True"),
    ("rg/game_of_life_halting/0", "FalseTrue"),
    # gsm_symbolic takes the first number in the text.
    ("rg/gsm_symbolic/1", "288 or 289"),
    ("rg/gsm_symbolic/1", "288 dollars, or maybe 300"),
    ("rg/gsm_symbolic/1", "-288"),  # its pattern skips the sign
    # game_of_life_halting pays any text that is not empty.
    ("rg/game_of_life_halting/0", "zzqx"),
    # kakurasu and survo read the grid out of any text around it.
    ("rg/kakurasu/0", "Grid: 1 0 0 0 0\n0 1 1 0 0\n0 1 0 0 0\n0 0 0 1 1\n0 0 0 1 0"),
    ("rg/survo/0", "Grid: 1 5 9 8 23\n7 5 8 6 26\n4 9 3 5 21\n3 2 5 9 19\n15 21 25 28 89"),
    # sokoban plays the letters that are moves and skips the rest.
    ("rg/sokoban/0", "Moves: RDRDLRRURDURDLDLLLUULLDDRLUURRRRRDDLDDRUULUURRDLLULDD"),
]


@pytest.mark.parametrize(("task_id", "answer"), HEDGES)
def test_hedges_and_extra_text_earn_nothing(
    env: gym.Env[str, str], task_id: str, answer: str
) -> None:
    assert _own_score(task_id, answer) == 1.0  # reasoning-gym alone pays it: broke through
    reward, verdict = _play(env, task_id, f"<answer>{answer}</answer>")
    assert reward == 0.0
    assert verdict["details"]["score"] is None  # type: ignore[index]
    assert "answer" in verdict["details"]["reason"]  # type: ignore[index]


def test_several_answer_blocks_state_no_answer(env: gym.Env[str, str]) -> None:
    reward, verdict = _play(
        env, "rg/game_of_life_halting/0", "<answer>True</answer> or <answer>False</answer>"
    )
    assert reward == 0.0 and not verdict["parsed"]
    assert "give one answer" in verdict["details"]["reason"]  # type: ignore[index]


def test_a_very_long_answer_is_not_scored(env: gym.Env[str, str]) -> None:
    started = time.monotonic()
    for answer in ("1" * 1_000_000, "True " * 200_000, "[" * 100_000 + "]" * 100_000):
        reward, verdict = _play(env, "rg/spiral_matrix/1", f"<answer>{answer}</answer>")
        assert reward == 0.0
        assert "characters" in verdict["details"]["reason"]  # type: ignore[index]
    assert time.monotonic() - started < 30  # a hang bound, not a speed target


def test_an_answer_that_makes_score_answer_raise_earns_nothing(env: gym.Env[str, str]) -> None:
    reward, verdict = _play(
        env, "rg/prime_factorization/2", "<answer>2 \u00d7 2 \u00d7 5 \u00d7 7 \u00d7 x</answer>"
    )
    assert reward == 0.0
    assert "score_answer raised: ValueError" in verdict["details"]["reason"]  # type: ignore[index]


def test_an_answer_that_hangs_score_answer_times_out_and_the_next_is_graded() -> None:
    require_module("reasoning_gym", "reasoning-gym")
    env = gym.make(ENV, score_seconds=1.0)
    try:
        started = time.monotonic()
        reward, verdict = _play(env, "rg/countdown/1", "<answer>9**9**9**9</answer>")
        assert reward == 0.0
        assert "took more than 1.0 s" in verdict["details"]["reason"]  # type: ignore[index]
        assert time.monotonic() - started < 30
        env.reset(options={"task_id": "rg/countdown/1"})
        reference = env.unwrapped.problem.solution[0]  # type: ignore[attr-defined]
        assert _play(env, "rg/countdown/1", reference)[0] == 1.0
    finally:
        env.close()


def test_an_answer_that_asks_for_all_memory_earns_nothing(env: gym.Env[str, str]) -> None:
    reward, _ = _play(env, "rg/spiral_matrix/1", "<answer>[0] * 10**11</answer>")
    assert reward == 0.0
    env.reset(options={"task_id": "rg/spiral_matrix/1"})
    reference = env.unwrapped.problem.solution[0]  # type: ignore[attr-defined]
    assert _play(env, "rg/spiral_matrix/1", reference)[0] == 1.0


def test_the_scoring_worker_is_confined_where_bubblewrap_works(env: gym.Env[str, str]) -> None:
    """The second wall: were an answer ever to run, it would run with no network, in
    namespaces of its own, with no capabilities, seeing no home directory."""
    from taskgym.envs.reasoning_gym import datasets
    from taskgym.sandboxes.bwrap import bwrap_unavailable_reason

    if bwrap_unavailable_reason() is not None:
        pytest.skip(f"bubblewrap does not work here: {bwrap_unavailable_reason()}")
    assert _play(env, "rg/basic_arithmetic/1", "<answer>0</answer>")[0] == 0.0
    inside = confined_worker(datasets._worker().pid)
    environ = (inside / "environ").read_bytes().split(b"\0")
    assert b"PYTHONHASHSEED=0" in environ
