"""The fixture of the Harbor attacks: envs of attack tasks on a real Docker engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import gymnasium as gym
import pytest

import taskgym  # noqa: F401 - registers the envs
from taskgym.sandboxes import unavailable_reason
from taskgym.sandboxes.images import BASE_IMAGE, image_exists
from tests.attacks.harbor.common import missing


def require_docker() -> None:
    reason = unavailable_reason("harbor")
    if reason is not None:
        missing("docker", f"Harbor tasks need a Docker engine: {reason}")
    if not image_exists(BASE_IMAGE):
        missing("docker", f"the image {BASE_IMAGE} is missing: taskgym images build")


@pytest.fixture(scope="module")
def make_env() -> Iterator[Callable[..., gym.Env[str, str]]]:
    """``make_env(tasks_dir, **options)``: a Harbor-v0 env, closed after the module."""
    require_docker()
    envs: list[gym.Env[str, str]] = []

    def make(tasks: Path, **options: object) -> gym.Env[str, str]:
        env = gym.make("taskgym/Harbor-v0", tasks=str(tasks), **options)
        envs.append(env)
        return env

    yield make
    for env in envs:
        env.close()
