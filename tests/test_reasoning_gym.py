"""ReasoningGym-v0 with the real reasoning-gym: every dataset of the installed version is
reachable, plays its reference answer through the env for 1.0 and a wrong answer for
0.0, and its curriculum's levels are the env's ``level`` option.

Exceptions (also in docs/reasoning-gym.md):

- ``boxnet`` and ``rush_hour`` have no reference answer and keep no right answer in their
  items' metadata: any plan their ``score_answer`` accepts is right, and taskgym cannot
  make one. Their oracle plays nothing; a wrong answer still earns 0.
- ``composite`` is reasoning-gym's own mixture: it needs ``config={"datasets": [...]}``
  and is played with two datasets in it.
- At their curriculum's top level (slow test), ``caesar_cipher``, ``knight_swap``,
  ``rubiks_cube`` and ``survo`` make configs their own checks refuse (a ConfigError
  names the check), and ``jugs`` takes minutes to make an item.
"""

from __future__ import annotations

import importlib.util
import re
import string

import gymnasium as gym
import pytest

import taskgym  # noqa: F401 - registers the envs
from taskgym.core import Turn
from taskgym.errors import ConfigError, UnknownTaskIdError
from taskgym.testing import check_task
from tests.conftest import require_module

ENV = "taskgym/ReasoningGym-v0"
NO_REFERENCE = {"boxnet", "rush_hour"}
COMPOSITE = {
    "datasets": [
        {"name": "basic_arithmetic", "weight": 1, "config": {}},
        {"name": "leg_counting", "weight": 1, "config": {}},
    ]
}
BAD_TOP_LEVEL = {"caesar_cipher", "knight_swap", "rubiks_cube", "survo"}
TOO_SLOW_TOP_LEVEL = {"jugs"}


def _registered() -> list[str]:
    """reasoning-gym's own registry, read directly (the env reads it in its worker)."""
    if importlib.util.find_spec("reasoning_gym") is None:
        return []
    import reasoning_gym.factory

    return sorted(reasoning_gym.factory.DATASETS)


DATASETS = _registered()


@pytest.fixture(autouse=True)
def _needs_reasoning_gym() -> None:
    require_module("reasoning_gym", "reasoning-gym")


def _options(name: str) -> dict[str, object]:
    return {"dataset": name, **({"config": COMPOSITE} if name == "composite" else {})}


def _play(env: gym.Env[str, str], seed: int, action: str) -> tuple[float, dict[str, object]]:
    env.reset(seed=seed)
    _, reward, terminated, _, info = env.step(action)
    assert terminated
    return float(reward), info


def _reference(env: gym.Env[str, str], seed: int) -> str:
    env.reset(seed=seed)
    solution = env.unwrapped.problem.solution  # type: ignore[attr-defined]
    return solution[0] if solution else ""


def test_the_env_reaches_every_dataset_of_the_installed_version() -> None:
    from taskgym.envs.reasoning_gym import dataset_names

    assert dataset_names() == DATASETS
    assert len(DATASETS) > 100


@pytest.mark.slow
@pytest.mark.parametrize("name", DATASETS)
def test_each_dataset_pays_its_reference_and_not_a_wrong_answer(name: str) -> None:
    env = gym.make(ENV, **_options(name))
    try:
        for seed in (0, 1):
            reference = _reference(env, seed)
            if name in NO_REFERENCE:
                assert reference == ""
                reward, info = _play(env, seed, "<answer></answer>")
                assert reward == 0.0
                continue
            reward, info = _play(env, seed, reference)
            assert reward == 1.0, info["verdict"]
            assert info["verdict"]["details"]["score"] == 1.0  # type: ignore[index]
            for wrong in _wrong_answers(env, seed, reference):
                reward, info = _play(env, seed, wrong)
                assert reward == 0.0, (wrong, info["verdict"])
    finally:
        env.close()


def _wrong_answers(env: gym.Env[str, str], seed: int, reference: str) -> list[str]:
    """A word no dataset takes, the reference with every digit and letter shifted by one
    (its shape, nothing right; not where the item has no reference, only an example
    among many right answers, nor where it has no digit or letter), and the task's near
    misses of the reference (an integer off by one, negated; none for other answers,
    which may be right close to the reference: decimals within a tolerance, another
    solution of a puzzle). Another item's reference is no sure wrong answer either: a
    24 puzzle with the same four numbers, or an inference from the same premises, may
    rightly take it."""
    env.reset(seed=seed)
    problem = env.unwrapped.problem  # type: ignore[attr-defined]
    misses = env.unwrapped.task.near_misses(problem).values()  # type: ignore[attr-defined]
    wrong = ["<answer>zzqx</answer>", *(m[-1] for m in misses if m)]
    inner = reference.removeprefix("<answer>").removesuffix("</answer>")
    shifted = inner.translate(_SHIFT)  # the reference's shape, every digit and letter wrong
    if problem.data["answer"] is not None and shifted != inner:
        wrong.append(f"<answer>{shifted}</answer>")
    return wrong


_SHIFT = str.maketrans(
    string.digits + string.ascii_lowercase + string.ascii_uppercase,
    "1234567890" + string.ascii_lowercase[1:] + "a" + string.ascii_uppercase[1:] + "A",
)


def test_a_few_datasets_pay_their_reference_and_not_a_wrong_answer() -> None:
    """The default run's share of the slow test above: an eval-based, a sympy-based, a
    set-ordered and a metadata-answer dataset."""
    for name in ("spiral_matrix", "countdown", "polynomial_multiplication", "graph_color"):
        env = gym.make(ENV, dataset=name)
        try:
            reference = _reference(env, 3)
            assert _play(env, 3, reference)[0] == 1.0
            assert _play(env, 3, "<answer>zzqx</answer>")[0] == 0.0
        finally:
            env.close()


def test_the_env_conforms() -> None:
    check_task(ENV, seeds=2)
    check_task(ENV, seeds=2, dataset="knights_knaves", level=1)


def test_problems_are_pure_functions_of_the_seed_and_come_back_by_id() -> None:
    env = gym.make(ENV, dataset="polynomial_multiplication", level=1, config={"max_terms": 5})
    try:
        first, info = env.reset(seed=11)
        task_id = info["task_id"]
        assert task_id == 'rg/polynomial_multiplication/{}/L1/{{"max_terms":5}}'.format(
            env.unwrapped.problem.data["seed"]  # type: ignore[attr-defined]
        )
        again, _ = env.reset(seed=11)
        assert again == first
        by_id, info = env.reset(options={"task_id": task_id})
        assert by_id == first and info["task_id"] == task_id
    finally:
        env.close()
    # Another env, with other options, plays the same id the same.
    other = gym.make(ENV)
    try:
        assert other.reset(options={"task_id": task_id})[0] == first
    finally:
        other.close()


def test_the_curriculum_levels_are_the_level_option() -> None:
    from taskgym.envs.reasoning_gym import max_level

    assert max_level("basic_arithmetic") == 4
    easy = gym.make(ENV, dataset="basic_arithmetic", level=0)
    hard = gym.make(ENV, dataset="basic_arithmetic", level=4)
    try:
        short = [len(easy.reset(seed=s)[0]) for s in range(10)]
        long = [len(hard.reset(seed=s)[0]) for s in range(10)]
        assert sum(long) > sum(short)
    finally:
        easy.close()
        hard.close()


def test_bad_options_say_what_to_do() -> None:
    with pytest.raises(ConfigError, match=r"no dataset 'nope'.*dataset_names"):
        gym.make(ENV, dataset="nope")
    with pytest.raises(ConfigError, match="levels 0 to 4"):
        gym.make(ENV, dataset="basic_arithmetic", level=9)
    with pytest.raises(ConfigError, match="no curriculum"):
        gym.make(ENV, dataset="acre", level=0)
    with pytest.raises(ConfigError, match="refused"):
        gym.make(ENV, dataset="basic_arithmetic", config={"min_terms": 9, "max_terms": 2})
    with pytest.raises(ConfigError, match="JSON"):
        gym.make(ENV, config={"x": object()})


def test_ids_of_no_dataset_are_unknown() -> None:
    env = gym.make(ENV)
    try:
        for bad in ("rg/nope/3", "rg/basic_arithmetic/x", "other", "rg/basic_arithmetic/3/L99"):
            with pytest.raises(UnknownTaskIdError):
                env.reset(options={"task_id": bad})
    finally:
        env.close()


def test_partial_credit_is_in_the_details_and_solves_nothing() -> None:
    env = gym.make(ENV, dataset="knights_knaves")
    try:
        question, _ = env.reset(seed=0)
        roles = re.search(r"is a (\w+)/(\w+)", question)
        assert roles is not None
        inner = _reference(env, 0).removeprefix("<answer>").removesuffix("</answer>")
        first, rest = inner.split(", and ")
        word, other = roles.groups() if first.endswith(roles[1]) else roles.groups()[::-1]
        flipped = f"{first.removesuffix(word)}{other}, and {rest}"  # one of two wrong
        reward, info = _play(env, 0, f"<answer>{flipped}</answer>")
        assert reward == 0.0
        assert 0.0 < info["verdict"]["details"]["score"] < 1.0  # type: ignore[index]
    finally:
        env.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", DATASETS)
def test_each_curriculum_top_level_pays_its_reference(name: str) -> None:
    from taskgym.envs.reasoning_gym import max_level

    top = max_level(name)
    if top is None or name in NO_REFERENCE or name in TOO_SLOW_TOP_LEVEL:
        pytest.skip(f"{name}: no curriculum, no reference, or too slow at its top level")
    if name in BAD_TOP_LEVEL:
        with pytest.raises(ConfigError, match="refused"):
            gym.make(ENV, dataset=name, level=top)
        return
    env = gym.make(ENV, dataset=name, level=top)
    try:
        assert _play(env, 0, _reference(env, 0))[0] == 1.0
    finally:
        env.close()


def test_a_check_reads_only_the_last_turn() -> None:
    from taskgym.envs.reasoning_gym.task import ReasoningGymTask

    task = ReasoningGymTask()
    problem = task.problem(5)
    verdict = task.check(problem, [Turn(problem.solution[0], "")], None)  # type: ignore[arg-type]
    assert verdict.solved
    assert not task.check(problem, [], None).parsed  # type: ignore[arg-type]


def test_without_reasoning_gym_make_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from taskgym.envs.reasoning_gym import datasets
    from taskgym.errors import DependencyNotInstalledError

    monkeypatch.setattr(datasets, "reasoning_gym_missing", lambda: "not here")
    monkeypatch.setattr(datasets, "_SHARED", None)
    datasets._levels.cache_clear()
    with pytest.raises(DependencyNotInstalledError, match=r"taskgym\[reasoning-gym\]"):
        gym.make(ENV)
    monkeypatch.undo()
    datasets._levels.cache_clear()
