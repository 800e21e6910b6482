"""Shared pieces of the shell attack tests: episodes played with action text only, the
backends each attack runs on, and task directories of the tests' own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

from taskgym.envs.shell.tasks import BUNDLED_SHELL_TASKS, load_shell_tasks
from taskgym.sandboxes import make_sandbox
from tests.conftest import require_backend

RECORDS = {r.id: r for r in load_shell_tasks(BUNDLED_SHELL_TASKS)}
DOCKER = pytest.param("docker", marks=pytest.mark.integration)
BACKENDS = [pytest.param("local", marks=pytest.mark.slow), "bwrap", DOCKER]
"""Where Shell-v0 tasks run; ShellTools-v0 tasks always run in docker."""
CONTAINED = ["bwrap", DOCKER]
"""The backends that stop everything an episode started (the local backend cannot stop
a process that left its session: ``setsid``)."""

Env = gym.Env


def shell_env(backend: str, env_id: str = "taskgym/Shell-v0", **kwargs: Any) -> Env:
    require_backend(backend)
    return gym.make(env_id, sandbox=backend, **kwargs)


def left(env: Env, path: str) -> bytes | None:
    """A regular file the episode left in the work directory, or None."""
    try:
        return env.unwrapped.sandbox.read_file(path)  # type: ignore[attr-defined, no-any-return]
    except OSError:
        return None


def task_dir(root: Path, manifest: dict[str, Any], **files: str) -> Path:
    """A task directory of the test's own (``files``: setup.sh, solution.sh...)."""
    root.mkdir(parents=True)
    (root / "task.json").write_text(json.dumps(manifest))
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def bundled_copy(root: Path, name: str, **changes: Any) -> Path:
    """A copy of a bundled task directory with some manifest fields changed (None
    removes a field: ``image=None`` lets a ShellTools task run in any sandbox)."""
    shutil.copytree(Path(BUNDLED_SHELL_TASKS) / name, root)
    manifest = json.loads((root / "task.json").read_text())
    manifest.update(changes)
    manifest = {k: v for k, v in manifest.items() if v is not None}
    (root / "task.json").write_text(json.dumps(manifest))
    return root


def tasks_env(backend: str, path: Path) -> Env:
    return shell_env(backend, "taskgym/ShellTasks-v0", tasks=str(path))


def require_tool(backend: str, tool: str) -> None:
    """Skip where the sandbox's system lacks ``tool``: the host's under bwrap and local
    (docker runs such tasks in the shell-tools image, which has git, sqlite3 and jq)."""
    require_backend(backend)
    if backend == "docker":
        return
    with make_sandbox(backend) as box:
        if not box.run(["sh", "-c", f"command -v {tool}"]).ok:
            pytest.skip(f"no {tool} in the {backend} sandbox")
