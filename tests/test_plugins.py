"""The registry type behind rewards, sandbox backends, agents and executors, and a
plugin of each of the last three registered by a user and used where taskgym uses its
own: ``gymnasium.make(sandbox=...)``, ``make_executor`` and ``taskgym run``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import pytest

from taskgym.agents import AGENTS, OracleAgent, make_agent, register_agent
from taskgym.cli import main
from taskgym.errors import ConfigError, DependencyNotInstalledError, UnknownNameError
from taskgym.parallel import (
    EXECUTORS,
    EpisodeResult,
    EpisodeSpec,
    InlineExecutor,
    make_executor,
    register_executor,
)
from taskgym.plugins import Registry, load
from taskgym.sandboxes import (
    SANDBOXES,
    ExecResult,
    Limits,
    register_sandbox,
    sandbox_names,
    unavailable_reason,
)
from taskgym.sandboxes.local import LocalSandbox

# -- the registry type ----------------------------------------------------------------


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The name of a module, not imported yet, that defines ``Thing``."""
    name = "taskgym_test_plugin_module"
    (tmp_path / f"{name}.py").write_text("class Thing:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_a_registered_factory_is_found_by_name_and_listed() -> None:
    shapes: Registry[Callable[[], object]] = Registry("shape")
    shapes.register("square", object)
    shapes.register("circle", dict, sides=0)
    assert shapes.names() == ["circle", "square"]
    assert "circle" in shapes and "oval" not in shapes and 3 not in shapes
    assert shapes.get("square") is object
    assert shapes.metadata("circle") == {"sides": 0}
    shapes.register("square", list)  # again: replaced
    assert shapes.get("square") is list
    shapes.unregister("square")
    assert shapes.names() == ["circle"]


def test_a_module_attr_string_is_imported_only_when_looked_up(plugin_module: str) -> None:
    things: Registry[type] = Registry("thing")
    things.register("it", f"{plugin_module}:Thing")
    assert plugin_module not in sys.modules
    assert things.get("it").__name__ == "Thing"
    assert plugin_module in sys.modules


def test_unknown_names_list_the_known_ones() -> None:
    shapes: Registry[type] = Registry("shape")
    shapes.register("square", object)
    with pytest.raises(UnknownNameError, match="unknown shape 'oval'; choose one of: 'square'"):
        shapes.get("oval")
    with pytest.raises(UnknownNameError, match="unknown shape 3"):
        shapes.get(3)
    with pytest.raises(UnknownNameError, match="unknown shape 'oval'"):
        shapes.unregister("oval")
    with pytest.raises(UnknownNameError, match=r"\(none registered\)"):
        Registry[type]("colour").get("red")


def test_bad_names_are_refused_at_registration() -> None:
    boxes: Registry[type] = Registry("box", reserved=["auto"])
    with pytest.raises(ValueError, match="a box name must be a non-empty str other than 'auto'"):
        boxes.register("auto", object)
    with pytest.raises(ValueError, match="non-empty str"):
        boxes.register("", object)
    with pytest.raises(ValueError, match="non-empty str"):
        boxes.register(7, object)  # type: ignore[arg-type]


def test_a_failed_import_says_what_failed_and_how_to_fix_it(plugin_module: str) -> None:
    things: Registry[type] = Registry("thing")
    things.register("gone", "no_such_module_here:Thing")
    things.register("typo", f"{plugin_module}:Thign")
    with pytest.raises(ConfigError) as missing:
        things.get("gone")
    assert str(missing.value).startswith(
        "cannot load thing 'gone' (no_such_module_here:Thing): No module named "
    )
    assert "'no_such_module_here' is importable" in str(missing.value)
    with pytest.raises(ConfigError, match=r"cannot load thing 'typo'.*defines 'Thign'"):
        things.get("typo")
    with pytest.raises(ConfigError, match="thing entry points are written 'module:Class'"):
        load("no_colon", "thing")


def test_taskgyms_own_errors_pass_through_a_load(tmp_path: Path, monkeypatch: Any) -> None:
    # A missing extra keeps its type: the CLI skips an env whose extra is not installed.
    (tmp_path / "needs_an_extra.py").write_text(
        "from taskgym.errors import DependencyNotInstalledError\n"
        "raise DependencyNotInstalledError('thing', 'things')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(DependencyNotInstalledError, match="taskgym\\[things\\]"):
        load("needs_an_extra:Thing", "thing")


def test_with_entry_points_any_module_attr_is_a_name(plugin_module: str) -> None:
    things: Registry[type] = Registry("thing", entry_points=True)
    assert things.get(f"{plugin_module}:Thing").__name__ == "Thing"
    with pytest.raises(UnknownNameError, match="choose one of: 'module:Class'"):
        things.get("half:")


# -- a sandbox backend of one's own, through gymnasium.make ------------------------------


class CountingSandbox(LocalSandbox):
    """The local backend, counting the commands it runs."""

    backend = "counting"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.runs = 0

    def _run(
        self, argv: list[str], stdin: bytes, limits: Limits, env: dict[str, str]
    ) -> ExecResult:
        self.runs += 1
        return super()._run(argv, stdin, limits, env)


def test_a_registered_sandbox_backend_runs_an_env_made_with_its_name() -> None:
    register_sandbox("counting", CountingSandbox)
    try:
        assert "counting" in sandbox_names() and unavailable_reason("counting") is None
        env = gym.make("taskgym/ArithmeticProgram-v0", sandbox="counting")
        env.reset(seed=0)
        _, reward, *_ = env.step(env.unwrapped.problem.solution[0])  # type: ignore[attr-defined]
        sandbox = env.unwrapped.sandbox  # type: ignore[attr-defined]
        assert reward == 1.0 and isinstance(sandbox, CountingSandbox) and sandbox.runs
        env.close()
    finally:
        SANDBOXES.unregister("counting")
    assert "counting" not in sandbox_names()


def test_a_sandbox_probe_says_why_a_backend_cannot_run_here() -> None:
    register_sandbox(
        "nowhere", CountingSandbox, probe=lambda: "needs a machine that is not this one"
    )
    register_sandbox(
        "as-string", CountingSandbox, probe="taskgym.sandboxes.bwrap:bwrap_unavailable_reason"
    )
    try:
        assert unavailable_reason("nowhere") == "needs a machine that is not this one"
        from taskgym.sandboxes.bwrap import bwrap_unavailable_reason

        assert unavailable_reason("as-string") == bwrap_unavailable_reason()
    finally:
        SANDBOXES.unregister("nowhere")
        SANDBOXES.unregister("as-string")


# -- an executor and an agent of one's own, through make_executor and taskgym run --------


class RecordingExecutor(InlineExecutor):
    """The inline executor, keeping the env ids of the episodes it played."""

    name = "recording"
    played: ClassVar[list[str]] = []  # on the class: the CLI makes the instance

    def submit(self, spec: EpisodeSpec) -> Future[EpisodeResult]:
        self.played.append(spec.env_id)
        return super().submit(spec)


class SpacedOracle(OracleAgent):
    """The reference solution with blanks around it, as a sloppy model would write it."""

    name = "spaced-oracle"

    def act(self, observation: str, info: dict[str, Any]) -> str:
        return f"  {super().act(observation, info)}\n"


@pytest.fixture
def plugins() -> Iterator[None]:
    register_executor("recording", RecordingExecutor)
    register_agent("spaced-oracle", SpacedOracle)
    RecordingExecutor.played.clear()
    try:
        yield
    finally:
        EXECUTORS.unregister("recording")
        AGENTS.unregister("spaced-oracle")


@pytest.mark.usefixtures("plugins")
def test_a_registered_executor_and_agent_play_through_make_executor() -> None:
    assert isinstance(make_agent("spaced-oracle"), SpacedOracle)
    specs = [
        EpisodeSpec("taskgym/ArithmeticEasy-v0", seed=s, agent="spaced-oracle") for s in range(3)
    ]
    with make_executor("recording", concurrency=2) as executor:
        rewards = [result.record.reward for result in executor.map(specs) if result.record]
    assert rewards == [1.0, 1.0, 1.0] and len(RecordingExecutor.played) == 3
    with pytest.raises(TypeError, match=r"the recording executor takes no options \['colour'\]"):
        make_executor("recording", colour="blue")


@pytest.mark.usefixtures("plugins")
def test_taskgym_run_plays_a_registered_agent_through_a_registered_executor(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run.jsonl"
    args = ["run", "ArithmeticEasy-v0", "--episodes", "3", "--out", str(out)]
    assert main([*args, "--agent", "spaced-oracle", "--executor", "recording"]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["agent"], r["reward"]) for r in records] == [("spaced-oracle", 1.0)] * 3
    assert RecordingExecutor.played == ["taskgym/ArithmeticEasy-v0"] * 3
    assert main([*args, "--agent", "spaced-oracle"]) == 0  # and without an executor
    assert main([*args, "--executor", "no-such-executor"]) == 2
