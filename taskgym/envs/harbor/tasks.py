"""Harbor task directories (the format of Terminal-Bench 2 and Harbor) as taskgym tasks:
a multi-turn shell episode in the task's own container, graded by its tests after the
last turn.

A task is one directory (``docs/harbor.md``)::

    my-task/
      task.toml             [agent] / [verifier] timeouts, [environment] resources and
                            network policy (read by :mod:`.config`)
      instruction.md        what the agent is asked to do (its first observation)
      environment/Dockerfile  the agent's image (built by :mod:`.images`, FROM mapped)
      solution/solve.sh     the reference (what the oracle runs)
      tests/test.sh         writes /logs/verifier/reward.txt or reward.json
      tests/Dockerfile      optional: a separate verifier's image

The agent answers each turn with one shell command (or ``submit``); a persistent bash
in the container runs it. The episode ends at ``submit``, at the turn limit or when
the task's ``[agent] timeout_sec`` is spent. Then :func:`.verify.verify` grades.
The oracle's one command unpacks ``solution/`` into ``/solution`` and runs
``solve.sh`` there (with ``[solution].env``), as Harbor's oracle agent does.
"""

from __future__ import annotations

import base64
import io
import shlex
import tarfile
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from taskgym.core import Execution, Problem, Reply, Tool, Turn, Verdict
from taskgym.envs.common.records import MultiTurnRecordsTask
from taskgym.envs.common.shell_turns import SUBMIT, command_report, shell_tools, strip_fence
from taskgym.envs.harbor.config import (
    HarborConfig,
    agent_may_change_paths,
    read_task_config,
    resolve_env,
)
from taskgym.envs.harbor.container import HarborContainer
from taskgym.envs.harbor.images import (
    DEFAULT_BASE_IMAGES,
    BaseImages,
    build_task_image,
    map_base_image,
)
from taskgym.envs.harbor.verify import VerifierPlan, verify
from taskgym.errors import CheckerError, ConfigError, SandboxError
from taskgym.sandboxes import Sandbox, ShellSession, register_sandbox

register_sandbox(
    "harbor",
    "taskgym.envs.harbor.container:HarborContainer",
    probe="taskgym.envs.harbor.container:harbor_unavailable_reason",
)

__all__ = ["BUNDLED_HARBOR_TASKS", "HarborRecord", "HarborTask", "load_harbor_tasks"]

BUNDLED_HARBOR_TASKS = str(Path(__file__).with_name("data"))
# The oracle's command carries solution/ in it: a bigger solution is refused at load.
MAX_COMMAND_CHARS = 256 * 1024
_OUTPUT_BYTES = 16 * 1024
# Where task.toml sets none (Harbor leaves it to the provider): the host stays usable.
DEFAULT_MEMORY_MB = 2048
DEFAULT_CPUS = 1.0
_TOOLS = shell_tools(
    "the persistent bash shell of the task's container", "the task's tests grade the state left"
)


@dataclass(frozen=True)
class HarborRecord:
    """One Harbor task directory, read."""

    id: str
    instruction: str
    config: HarborConfig
    solution: str
    """The oracle's command: solution/ unpacked into /solution, solve.sh run."""
    near_miss: str
    """The same with solve.sh's last command left out."""
    max_turns: int
    source: str = field(compare=False)


def load_harbor_tasks(path: str | Path, *, max_turns: int = 40) -> list[HarborRecord]:
    """A Harbor task directory (with a ``task.toml``), or every one in ``path`` (in
    name order)."""
    root = Path(path)
    if (root / "task.toml").is_file():
        return [_load_one(root, max_turns)]
    if not root.is_dir():
        raise ConfigError(f"{root} is neither a Harbor task (no task.toml) nor a directory")
    records = [
        _load_one(d, max_turns) for d in sorted(root.iterdir()) if (d / "task.toml").is_file()
    ]
    if not records:
        raise ConfigError(f"{root} holds no Harbor task (a directory with a task.toml)")
    return records


def _load_one(directory: Path, max_turns: int) -> HarborRecord:
    config = read_task_config(directory / "task.toml")
    instruction = _text(directory / "instruction.md")
    if not instruction.strip():
        raise ConfigError(f"{directory}/instruction.md is missing or empty")
    if (
        not (directory / "environment" / "Dockerfile").is_file()
        and not config.environment.docker_image
    ):
        raise ConfigError(
            f"{directory}: environment/Dockerfile is missing and [environment] names "
            "no docker_image"
        )
    if not (directory / "tests" / "test.sh").is_file():
        raise ConfigError(f"{directory}/tests/test.sh is missing (taskgym runs Linux tasks only)")
    solve = directory / "solution" / "solve.sh"
    if not solve.is_file():
        raise ConfigError(f"{directory}/solution/solve.sh is missing: a task needs a reference")
    if config.environment.gpus:
        raise ConfigError(f"{directory}: the task asks for {config.environment.gpus} GPU(s)")
    script = _text(solve)
    env = config.solution_env
    record = HarborRecord(
        id=directory.name,
        instruction=instruction,
        config=config,
        solution=_oracle_command(directory / "solution", script, env),
        near_miss=_oracle_command(directory / "solution", _without_last_command(script), env),
        max_turns=max_turns,
        source=str(directory),
    )
    if len(record.solution) > MAX_COMMAND_CHARS:
        raise ConfigError(
            f"{directory}/solution is too large to send as one command "
            f"({len(record.solution)} characters, at most {MAX_COMMAND_CHARS})"
        )
    return record


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not UTF-8 text: {e}") from e


def _oracle_command(solution: Path, solve_sh: str, env: Mapping[str, str]) -> str:
    """One shell command that puts ``solution/`` (with ``solve_sh`` as its solve.sh)
    in /solution and runs it there."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(solution.rglob("*")):
            if not path.is_file() or path == solution / "solve.sh":
                continue
            info = tar.gettarinfo(str(path), path.relative_to(solution).as_posix())
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = 0
            with path.open("rb") as handle:
                tar.addfile(info, handle)
        data = solve_sh.encode()
        info = tarfile.TarInfo("solve.sh")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
    packed = base64.b64encode(buffer.getvalue()).decode()
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    run = f'env {assignments} bash "$d/solve.sh"' if assignments else 'bash "$d/solve.sh"'
    # /solution as Harbor's oracle has it; a task whose agent is not root gets it in /tmp.
    where = 'd=/solution; { mkdir -p "$d" && [ -w "$d" ]; } 2>/dev/null || d=/tmp/solution'
    return f'{where}; mkdir -p "$d" && echo {packed} | base64 -d | tar -xz -C "$d" && {run}'


def _without_last_command(script: str) -> str:
    lines = script.splitlines()
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index].strip()
        if line and not line.startswith("#"):
            return "\n".join(lines[:index]) + "\n"
    return script


# When each sandbox's agent time runs out (monotonic), set at setup.
_DEADLINES: weakref.WeakKeyDictionary[Sandbox, float] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class HarborTask(MultiTurnRecordsTask):
    """Harbor task directories, each in its own container (multi-turn).

    Args:
        tasks: a Harbor task directory, or a directory of them; default: the bundled
            ones. ``path=`` is the same.
        base_images: what each ``FROM`` image (and ``docker_image``) stands for here,
            ``{"ubuntu:24.04": "my/ubuntu:local", "*": "taskgym/base:bookworm-pytest"}``
            (``"*"``: every other image; a value of None keeps the name, for machines
            with a registry). Default: every image maps to taskgym's offline base.
        network: give the network to the phases whose policy is ``public`` (by
            default none gets it; ``allowlist`` never does, as it cannot be enforced
            here).
        runtime: the OCI runtime of the containers (``runsc``: gVisor).
        agent_may_change: paths under the tests' tools (``/usr/local/bin``, a
            ``site-packages``) that every task lets the agent change, as a task's own
            ``[metadata.taskgym] agent_may_change`` does for it; a shared verifier
            grades changes elsewhere in a fresh container (docs/harbor.md).
        max_turns: the turn limit of each episode.
        command_seconds: each command's time limit (the agent's time left, if less).
    """

    tasks: str | None = None
    path: str | None = None
    base_images: Mapping[str, str | None] | None = None
    network: bool = False
    runtime: str = "runc"
    agent_may_change: Sequence[str] = ()
    max_turns: int = 40
    command_seconds: float = 120.0
    family: ClassVar[str] = "harbor"
    # Only the task's own container: "auto" never picks a backend that shows the tests.
    execution: ClassVar[Execution] = Execution(needs_sandbox=True, sandbox_backends=("harbor",))

    def __post_init__(self) -> None:
        if self.tasks and self.path:
            raise ConfigError("give tasks= or path= (the same option), not both")
        if self.max_turns < 1 or not self.command_seconds > 0:
            raise ConfigError("max_turns and command_seconds must be positive")
        if self.base_images is not None and not all(
            isinstance(k, str) and (v is None or isinstance(v, str))
            for k, v in self.base_images.items()
        ):
            raise ConfigError("base_images maps image names to local image names (or None)")
        if isinstance(self.agent_may_change, str):
            raise ConfigError("agent_may_change is a list of paths, not one string")
        paths = agent_may_change_paths(list(self.agent_may_change), "agent_may_change")
        object.__setattr__(self, "agent_may_change", paths)
        where = self.tasks or self.path or BUNDLED_HARBOR_TASKS
        records = load_harbor_tasks(where, max_turns=self.max_turns)
        self._keep({r.id: r for r in records})
        object.__setattr__(self, "_images", {})

    @property
    def _base_images(self) -> BaseImages:
        return self.base_images if self.base_images is not None else DEFAULT_BASE_IMAGES

    def image_of(self, task_id: str) -> str:
        """The task's image, built (or found in the cache) on first use."""
        images: dict[str, str] = self._images  # type: ignore[attr-defined]
        if task_id not in images:
            record: HarborRecord = self._records_by_id[task_id]
            spec = record.config.environment
            directory = Path(record.source) / "environment"
            # Harbor runs a task's docker_image rather than build it; here, where that
            # image cannot be pulled, the Dockerfile is built unless the image is mapped
            # by name (Harbor's force_build, for machines without a registry).
            named = spec.docker_image is not None and spec.docker_image in self._base_images
            if (directory / "Dockerfile").is_file() and not named:
                images[task_id] = build_task_image(
                    directory, record.id, self._base_images, timeout=spec.build_timeout_sec
                )
            else:
                images[task_id] = map_base_image(spec.docker_image or "", self._base_images)
        return images[task_id]

    def problem_sandbox(self, problem: Problem) -> tuple[str, dict[str, Any]] | None:
        record: HarborRecord = self._records_by_id[problem.id]
        config, spec = record.config, record.config.environment
        mode = config.agent_network or spec.network_mode
        return (
            "harbor",
            {
                "image": self.image_of(problem.id),
                "workdir": spec.workdir,
                "user": None if config.agent_user is None else str(config.agent_user),
                "env": resolve_env(spec.env, f"{record.id}: [environment].env"),
                "memory_mb": spec.memory_mb or DEFAULT_MEMORY_MB,
                "cpus": spec.cpus or DEFAULT_CPUS,
                "storage_mb": spec.storage_mb,
                "network": self.network and mode == "public",
                "runtime": self.runtime,
            },
        )

    def _problem_for(self, record: HarborRecord) -> Problem:
        return Problem(
            id=record.id, prompt=self._prompt(record), solution=(record.solution, SUBMIT)
        )

    def tools(self) -> tuple[Tool, ...]:
        return _TOOLS

    def near_misses(self, problem: Problem) -> dict[str, tuple[str, ...]]:
        """The reference with solve.sh's last command left out (the default would drop
        the submit instead of work)."""
        record: HarborRecord = self._records_by_id[problem.id]
        return {"solve.sh without its last command": (record.near_miss, SUBMIT)}

    def setup(self, problem: Problem, sandbox: Sandbox) -> None:
        record: HarborRecord = self._records_by_id[problem.id]
        box = _container(sandbox)
        check = record.config.environment.healthcheck
        if check is not None:
            _wait_healthy(box, check.command, check.timeout_sec, check.interval_sec, check.retries)
        seconds = record.config.agent_timeout_sec
        _DEADLINES[sandbox] = time.monotonic() + seconds if seconds else float("inf")

    def interact(
        self, problem: Problem, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        command = strip_fence(action).strip()
        if command == SUBMIT:
            return Reply("Submitted.", done=True)
        left_seconds = _DEADLINES.get(sandbox, float("inf")) - time.monotonic()
        if left_seconds <= 0:
            return Reply("[the task's agent time is spent: the result is checked]", done=True)
        if not command:
            parts = [f"No command. Type one shell command, or {SUBMIT} when done."]
        elif len(command) > MAX_COMMAND_CHARS:
            parts = [
                f"[not run: a command of {len(command)} characters; at most {MAX_COMMAND_CHARS}]"
            ]
        else:
            seconds = min(self.command_seconds, left_seconds)
            try:
                result = _shell(sandbox, seconds).run(command, timeout=seconds)
            except SandboxError as e:  # the container stopped (its memory ran out?)
                return Reply(_stopped(self, problem, sandbox, str(e)), done=True)
            if _container(sandbox).storage_exceeded:
                return Reply(_stopped(self, problem, sandbox, ""), done=True)
            parts = command_report(result, seconds)
        if len(transcript) + 1 >= self.max_turns:  # the task's own limit ends it
            return Reply("\n".join([*parts, "[no turns left: the result is checked]"]), True)
        left = self.turns_told(self.max_turns) - len(transcript) - 1  # the env's, if lower
        return Reply("\n".join([*parts, f"[{max(left, 0)} turn(s) left]"]))

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        record: HarborRecord = self._records_by_id[problem.id]
        _SHELLS.pop(sandbox, None)
        plan = VerifierPlan(
            task_id=record.id,
            directory=Path(record.source),
            config=record.config,
            image=self.image_of(record.id),
            base_images=self._base_images,
            network=self.network,
            runtime=self.runtime,
            agent_may_change=(*record.config.agent_may_change, *self.agent_may_change),
        )
        return verify(plan, _container(sandbox))

    def _prompt(self, record: HarborRecord) -> str:
        seconds = record.config.agent_timeout_sec
        budget = f" and {seconds:g} s in all" if seconds else ""
        return (
            f"{record.instruction.rstrip()}\n\n"
            "You are in a bash shell inside the task's container. Answer each turn with one "
            "shell command (its output and exit code come back); the shell keeps its state "
            f"between commands. Answer {SUBMIT} when you are done: the task's tests then "
            f"check the state you left. You have {self.turns_told(record.max_turns)} turns"
            f"{budget}, and each command {self.command_seconds:g} s."
        )


# One persistent shell per sandbox, opened at the episode's first command.
_SHELLS: weakref.WeakKeyDictionary[Sandbox, ShellSession] = weakref.WeakKeyDictionary()


def _shell(sandbox: Sandbox, seconds: float) -> ShellSession:
    session = _SHELLS.get(sandbox)
    if session is None or session.closed:
        session = sandbox.shell(timeout=seconds, output_bytes=_OUTPUT_BYTES)
        _SHELLS[sandbox] = session
    return session


def _stopped(task: HarborTask, problem: Problem, sandbox: Sandbox, error: str) -> str:
    """What the agent is told when its container stopped under a command."""
    if _container(sandbox).storage_exceeded:  # the storage watcher killed it
        record: HarborRecord = task._records_by_id[problem.id]
        storage_mb = record.config.environment.storage_mb
        error = f"its files passed the task's storage_mb, {storage_mb} MB"
    return f"[the task's container stopped ({error}): the result is checked]"


def _container(sandbox: Sandbox) -> HarborContainer:
    if not isinstance(sandbox, HarborContainer):
        raise SandboxError(
            f"Harbor tasks run in their own container (the harbor backend), not {sandbox.backend}"
        )
    return sandbox


def _wait_healthy(
    box: HarborContainer, command: str, timeout: float, interval: float, retries: int
) -> None:
    for _ in range(retries + 1):
        if box.run_as(["sh", "-c", command], user=box.user, seconds=timeout).ok:
            return
        time.sleep(interval)
    raise CheckerError(f"the task's healthcheck {command!r} never passed")
