"""The baseline of bench/serving.py: a minimal env written with OpenEnv's own API and
served by ``openenv-core``'s reference app (``create_fastapi_app``), as OpenEnv's echo
env is. Run by the benchmark as ``uvicorn bench.openenv_reference:app``."""

from __future__ import annotations

from typing import Any

from openenv.core.env_server.http_server import create_fastapi_app
from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import Action, Observation, State


class TextAction(Action):  # type: ignore[misc]
    text: str


class TextObservation(Observation):  # type: ignore[misc]
    text: str = ""


class EchoEnvironment(Environment):  # type: ignore[misc]
    """taskgym's no-op env (bench/tasks.py: NoopTask) written with OpenEnv's API: reset
    gives a prompt, a step answers with empty text, reward 0, episode not done."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self) -> None:
        super().__init__()
        self._state = State(step_count=0)

    def reset(self, seed: int | None = None, episode_id: str | None = None, **_: Any) -> Any:
        self._state = State(episode_id=episode_id, step_count=0)
        return TextObservation(text="Say anything.")

    def step(self, action: Any, timeout_s: float | None = None, **_: Any) -> Any:
        self._state.step_count += 1
        return TextObservation(text="", done=False, reward=0.0)

    @property
    def state(self) -> Any:
        return self._state


app = create_fastapi_app(EchoEnvironment, TextAction, TextObservation, max_concurrent_envs=4096)
