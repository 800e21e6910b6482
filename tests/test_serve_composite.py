"""Mixture-v0, Curriculum-v0 and ReasoningGym-v0 served by a real ``taskgym serve`` and
played with OpenEnv's own client: they are registered envs like the others, so the
server serves them as it serves any, info (the source, the level) included."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import require_module

require_module("openenv", "openenv")
from openenv import GenericEnvClient  # noqa: E402

from tests.serving_helpers import reference, serving  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ENVS = ("taskgym/Mixture-v0", "taskgym/Curriculum-v0", "taskgym/ReasoningGym-v0")


def _episode(url: str, env_id: str, seed: int, answer: str) -> list[Any]:
    async def run() -> list[Any]:
        async with GenericEnvClient(base_url=url) as env:
            first = await env.reset(seed=seed, env_id=env_id)
            return [first, await env.step({"text": answer})]

    return asyncio.run(run())


def test_the_composite_and_reasoning_gym_envs_are_served() -> None:
    require_module("reasoning_gym", "reasoning-gym")
    with serving(ENVS) as served:
        sources = set()
        for seed in range(6):
            (answer,) = reference("taskgym/Mixture-v0", seed)
            first, last = _episode(served.url, "taskgym/Mixture-v0", seed, answer)
            source = first.observation["info"]["source"]
            assert first.observation["task_id"].startswith(f"{source}|")
            assert last.done and last.reward == 1.0
            sources.add(source)
        assert len(sources) == 2
        (answer,) = reference("taskgym/Curriculum-v0", 1)
        first, last = _episode(served.url, "taskgym/Curriculum-v0", 1, answer)
        assert first.observation["info"]["level"] == 0
        assert last.done and last.reward == 1.0
        (answer,) = reference("taskgym/ReasoningGym-v0", 2)
        first, last = _episode(served.url, "taskgym/ReasoningGym-v0", 2, answer)
        assert first.observation["task_id"].startswith("rg/basic_arithmetic/")
        assert last.done and last.reward == 1.0
        wrong = _episode(served.url, "taskgym/ReasoningGym-v0", 2, "<answer>1 or 2</answer>")
        assert wrong[-1].done and wrong[-1].reward == 0.0
