"""What travels between an OpenEnv client and ``taskgym serve``: the action, the
observation and the state, as OpenEnv's own pydantic models (``openenv.core``'s
``Action``, ``Observation`` and ``State``), so that the server's ``/schema`` describes
them and every OpenEnv client reads them.

An action is the agent's reply: its ``text`` and, where the env has tools, the native
``tool_calls`` of an OpenAI-style assistant message. The server reads it the way
:mod:`taskgym.chat` reads any model's reply (reasoning stripped, every call played in
order, a bad call refused with the reason), unless ``verbatim`` asks for the text to be
played as one ``env.step`` exactly as given (what the remote gymnasium env sends).

OpenEnv's serializer leaves an observation's ``metadata`` out of what it sends, so the
episode's verdict is in both: ``metadata["verdict"]`` for code that holds the
observation itself, and the ``verdict`` field, which reaches the client.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, field_validator

from taskgym.errors import DependencyNotInstalledError

try:
    from openenv.core.env_server.types import Action, Observation, State
except ImportError as e:
    raise DependencyNotInstalledError("openenv-core", "openenv") from e

__all__ = ["TaskgymAction", "TaskgymObservation", "TaskgymState", "action_class"]


class TaskgymAction(Action):
    """One reply of the agent."""

    text: str = Field(
        description=(
            "the agent's reply: an action in the task's format (an <answer> tag, a code "
            "block, a command...), or tool calls written as <tool_call>{...}</tool_call> "
            "blocks; reasoning blocks (<think>...</think>) are removed first"
        )
    )
    tool_calls: list[dict[str, Any]] = Field(
        default_factory=list,
        description=(
            "native tool calls of an OpenAI-style assistant message "
            '({"id", "type": "function", "function": {"name", "arguments"}}), played in '
            "order; see the schema's x-tools for the tools of each env"
        ),
    )
    verbatim: bool = Field(
        default=False,
        description="play text as one env.step, exactly as given (no reading as a reply)",
    )

    @field_validator("text", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        """A reply that is a bare number, which clients that JSON-decode replies (as
        verifiers' OpenEnv taskset does) send as a number, is its text."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value


class TaskgymObservation(Observation):
    """What the env said: after a reset the prompt, after a step the last observation."""

    text: str = Field(default="", description="the env's observation (the prompt at reset)")
    messages: list[dict[str, Any]] = Field(
        default_factory=list,
        description=(
            "chat messages to send next: at reset the system prompt and the first user "
            "message; after a step each action's answer (a tool message for a native call)"
        ),
    )
    tools: list[dict[str, Any]] = Field(
        default_factory=list, description="at reset: the env's tools as OpenAI tools entries"
    )
    env_id: str = Field(default="", description="the env this session plays")
    task_id: str = Field(default="", description="the problem's id (reset with it to replay)")
    turn: int = Field(default=0, description="turns played in this episode")
    truncated: bool = Field(default=False, description="the episode hit its turn limit")
    verdict: dict[str, Any] | None = Field(
        default=None, description="at the end: the check's verdict (passed, total, details)"
    )
    info: dict[str, Any] = Field(
        default_factory=dict, description="gymnasium's info of the last reset or step"
    )


class TaskgymState(State):
    """Where the session's episode is."""

    env_id: str = ""
    task_id: str = ""
    turn: int = 0
    done: bool = True


def action_class(tools: dict[str, list[dict[str, Any]]]) -> type[TaskgymAction]:
    """:class:`TaskgymAction` whose JSON schema lists ``tools`` (each env's, by id) under
    ``x-tools``, so that a client reading ``/schema`` sees what it may call."""

    listed: Any = {"x-tools": tools}

    class ServedAction(TaskgymAction):
        model_config = ConfigDict(json_schema_extra=listed)

    ServedAction.__name__ = ServedAction.__qualname__ = "TaskgymAction"
    return ServedAction
