"""How an episode looks to a chat model, and how a model's reply becomes actions.

One layer for everything that talks to a model: the OpenAI agent, the trainer adapters
(:mod:`taskgym.trainers`) and the server. For any task it gives

- the system prompt of the task's family (:func:`system_prompt`), and the first user
  message, which is the env's first observation;
- the task's actions as OpenAI-style tools (:func:`tool_schemas`);
- a :class:`Conversation` that reads each reply into the actions it asks for
  (:meth:`Conversation.read`) and keeps the whole message list, every assistant reply as
  the model wrote it, for the run record and for trainers that rebuild what they
  sampled.

Reading a reply
---------------

1. **Reasoning is removed first** (:func:`strip_reasoning`): ``<think>...</think>``,
   ``<thinking>...</thinking>`` and ``<reasoning>...</reasoning>`` blocks, a closing tag
   whose opening tag was in the prompt (everything before it is reasoning), and an
   opening tag never closed (everything after it is). What is left is all that any
   family reads: reasoning is never run as a command or code, nor graded as an answer.
2. **Native tool calls** (the message's ``tool_calls``) are read in order, every one: a
   call to a known tool with the declared string arguments becomes an action; any other
   call (arguments that are not a JSON object, an unknown tool, a missing or unexpected
   argument, a value that is not a string or a number) is refused, and the model is told
   why in that call's tool message. The assistant message stays in the history as the
   model sent it, every call included, and each call gets its own tool message.
3. **The text protocol**, for models without tool calling: a task's tools may also be
   called in the reply's text, one block a call, as open models write them::

       <tool_call>{"name": "run", "arguments": {"command": "ls -l"}}</tool_call>

   read and refused by the same rules (the answers come back as user messages). A reply
   with neither native calls nor such blocks is one action in the task's own format (an
   ``<answer>`` tag, a fenced code block, a ``<run>`` tag, as its prompt describes).

Every scan is linear in the reply's length.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from taskgym.core import Task, Tool
from taskgym.errors import ConfigError

__all__ = [
    "SYSTEM_PROMPTS",
    "TEXT_TOOL_CALL",
    "Conversation",
    "PlannedAction",
    "prompt_holds",
    "strip_reasoning",
    "system_prompt",
    "tool_schemas",
]

SYSTEM_PROMPTS: dict[str, str] = {
    "math": (
        "You solve math problems and prove theorems. Work carefully, then give exactly "
        "what the problem asks for, in the format it asks for."
    ),
    "code": (
        "You are an expert Python programmer. Write correct, complete code and answer in "
        "exactly the format the task describes."
    ),
    "shell": (
        "You operate a bash shell in a Linux sandbox to complete the task you are given. "
        "Inspect before you change things, and submit when the task is done."
    ),
}
_GENERIC_PROMPT = "Complete the task you are given, answering in the format it describes."
_WITH_TOOLS = " Act through the tools you are given: one tool call a turn."
_TEXT_TURNS = " Each reply of yours is one action, written as the task describes."
_TEXT_TOOLS = (
    " Act through these tools. Call one by writing, in your reply, "
    '<tool_call>{{"name": NAME, "arguments": {{...}}}}</tool_call>; each argument is a '
    "string. The tools:\n{tools}"
)

TEXT_TOOL_CALL = ("<tool_call>", "</tool_call>")
"""The tags of a tool call written in text (the text protocol above)."""

_REASONING = re.compile(r"<(/?)(think|thinking|reasoning)>", re.IGNORECASE)
_ENDED = "not run: the episode ended before this call"
_NOT_A_CALL = 'a <tool_call> block holds one JSON object: {"name": ..., "arguments": {...}}'


def strip_reasoning(text: str) -> str:
    """``text`` without its reasoning blocks (see the module docstring), in one pass."""
    kept: list[str] = []
    position = 0
    depth = 0
    for match in _REASONING.finditer(text):
        closing = bool(match.group(1))
        if not closing:
            if depth == 0:
                kept.append(text[position : match.start()])
            depth += 1
        elif depth > 0:
            depth -= 1
            if depth == 0:
                position = match.end()
        else:  # a closing tag with no opening: the opening was in the prompt
            kept = []
            position = match.end()
    if depth == 0:
        kept.append(text[position:])
    return "".join(kept).strip()


def prompt_holds(prompt: Any, observation: str) -> bool:
    """Whether a dataset row's prompt (text, or chat messages whose last one is the
    user's) already holds an episode's first observation: trainers that append what an
    env's reset returns are then given nothing more."""
    if isinstance(prompt, str):
        return observation in prompt
    if isinstance(prompt, Sequence) and prompt and isinstance(prompt[-1], Mapping):
        content = prompt[-1].get("content")
        return isinstance(content, str) and observation in content
    return False


def system_prompt(task: Task, *, tools: str = "native", override: str | None = None) -> str:
    """The system message for an episode of ``task``: the family's prompt (or
    ``override``), and for a multi-turn task how to act: through native tools
    (``tools="native"`` and the task has tools), through tool calls written in text
    (``"text"``), or one action a reply in the task's format (``"off"``, or no tools)."""
    prompt = override if override is not None else SYSTEM_PROMPTS.get(task.family, _GENERIC_PROMPT)
    if not task.multi_turn:
        return prompt
    offered = task.tools()
    if offered and tools == "native":
        return prompt + _WITH_TOOLS
    if offered and tools == "text":
        listed = "\n".join(json.dumps(tool.schema()["function"]) for tool in offered)
        return prompt + _TEXT_TOOLS.format(tools=listed)
    return prompt + _TEXT_TURNS


def tool_schemas(task: Task) -> list[dict[str, Any]]:
    """The task's actions as OpenAI ``tools`` entries (empty for single-turn tasks and
    tasks whose action is plain text)."""
    if not task.multi_turn:
        return []
    return [tool.schema() for tool in task.tools()]


@dataclass(frozen=True)
class PlannedAction:
    """One thing a reply asked for: an action for ``env.step``, or a refused call.

    ``call_id`` names the native tool call it answers (None for a text action or a call
    written in text); ``tool`` is the tool's name where it was a call. A refused call has
    ``action`` None and ``error`` saying what was wrong, which the model is told."""

    action: str | None
    call_id: str | None = None
    tool: str | None = None
    error: str | None = None

    @property
    def refused(self) -> bool:
        return self.action is None


class Conversation:
    """The message list of one episode, and the reading of its replies.

    Args:
        task: the env's task (``env.unwrapped.task``).
        tools: ``"native"`` (the task's tools are sent as OpenAI tools), ``"text"``
            (described in the system prompt, called in ``<tool_call>`` blocks) or
            ``"off"`` (one action a reply, in the task's format). Calls written in text
            are read in every mode for a task that has tools.
        system: the system prompt instead of the family's.

    Examples:
        >>> import gymnasium as gym
        >>> env = gym.make("taskgym/Arithmetic-v0")
        >>> observation, info = env.reset(seed=0)
        >>> chat = Conversation(env.unwrapped.task)
        >>> messages = chat.start(observation)
        >>> [a.action for a in chat.read({"content": "<think>6*7?</think><answer>42</answer>"})]
        ['<answer>42</answer>']
    """

    def __init__(self, task: Task, *, tools: str = "native", system: str | None = None) -> None:
        if tools not in ("native", "text", "off"):
            raise ConfigError(f"tools is 'native', 'text' or 'off', got {tools!r}")
        self.task = task
        self.mode = tools
        self._system = system
        self.tools: dict[str, Tool] = {t.name: t for t in task.tools()} if task.multi_turn else {}
        self.messages: list[dict[str, Any]] = []

    @property
    def native_tools(self) -> list[dict[str, Any]]:
        """The ``tools`` to send with each request (empty unless the mode is native)."""
        return [t.schema() for t in self.tools.values()] if self.mode == "native" else []

    def start(self, observation: str) -> list[dict[str, Any]]:
        """Begin the episode: the system prompt and the first observation."""
        system = system_prompt(self.task, tools=self.mode, override=self._system)
        self.messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": observation},
        ]
        return self.messages

    def without_native_tools(self) -> None:
        """Fall back to the text protocol (a server that refuses tools): the system
        prompt is written anew for it."""
        self.mode = "text"
        if self.messages and self.messages[0].get("role") == "system":
            self.messages[0]["content"] = system_prompt(
                self.task, tools="text", override=self._system
            )

    def read(self, reply: Mapping[str, Any]) -> list[PlannedAction]:
        """The actions ``reply`` (an assistant message: ``content`` and maybe
        ``tool_calls``) asks for, in order; the reply joins the history unchanged."""
        message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
        calls = reply.get("tool_calls") or []
        if calls:
            message["tool_calls"] = list(calls)
        for key in ("reasoning_content", "reasoning"):  # kept for trainers that sampled it
            if reply.get(key) is not None:
                message[key] = reply[key]
        self.messages.append(message)
        return self.plan(str(reply.get("content") or ""), calls)

    def plan(self, content: str, calls: Sequence[Any] = ()) -> list[PlannedAction]:
        """The actions of a reply's text and native calls (without touching the
        history): for trainers that hold the messages themselves."""
        if calls:
            return [self._native(call, index) for index, call in enumerate(calls)]
        text = strip_reasoning(content)
        if self.tools:
            written = _written_calls(text)
            if written:
                return [
                    self._call(None, name, args)
                    if name is not None
                    else PlannedAction(None, error=_NOT_A_CALL)
                    for name, args in written
                ]
        return [PlannedAction(text)]

    def observe(self, planned: PlannedAction, observation: str) -> None:
        """Answer ``planned`` with what the env (or the refusal) said."""
        if planned.call_id is not None:
            self.messages.append(
                {"role": "tool", "tool_call_id": planned.call_id, "content": observation}
            )
        else:
            self.messages.append({"role": "user", "content": observation})

    def refuse(self, planned: PlannedAction) -> None:
        """Tell the model why ``planned`` was not run."""
        self.observe(planned, f"error: {planned.error}")

    def ended(self, planned: Sequence[PlannedAction]) -> None:
        """Answer the calls of a reply that the end of the episode left unrun, so that
        every call in the history has its answer."""
        for action in planned:
            if action.call_id is not None:
                self.observe(action, _ENDED)

    # -- reading calls -------------------------------------------------------------------

    def _native(self, call: Any, index: int) -> PlannedAction:
        call_id = str(call.get("id") or f"call_{index}") if isinstance(call, Mapping) else None
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping):
            return PlannedAction(
                None, call_id or f"call_{index}", None, "a tool call needs a function"
            )
        return self._call(call_id, function.get("name"), function.get("arguments"))

    def _call(self, call_id: str | None, name: Any, arguments: Any) -> PlannedAction:
        tool = self.tools.get(name) if isinstance(name, str) else None
        if tool is None:
            known = ", ".join(sorted(self.tools)) or "none"
            return PlannedAction(None, call_id, None, f"no tool named {name!r} (tools: {known})")
        values, error = _arguments(tool, arguments)
        if values is None:
            return PlannedAction(None, call_id, tool.name, error)
        return PlannedAction(tool.action(values), call_id, tool.name)


def _arguments(tool: Tool, raw: Any) -> tuple[dict[str, str] | None, str]:
    """The call's arguments as the tool's strings, or None and what was wrong."""
    if raw is None or raw == "":
        raw = {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as e:
            return None, f"the arguments of {tool.name!r} are not valid JSON ({e.msg} at {e.pos})"
        except RecursionError:  # nested deeper than the parser goes
            return None, f"the arguments of {tool.name!r} are nested too deeply"
    if not isinstance(raw, Mapping):
        return None, f"the arguments of {tool.name!r} must be a JSON object"
    unexpected = sorted(str(k) for k in raw if k not in tool.parameters)
    missing = sorted(set(tool.parameters) - set(raw))
    if unexpected or missing:
        wanted = ", ".join(tool.parameters)
        parts = [
            f"unexpected {unexpected}" if unexpected else "",
            f"missing {missing}" if missing else "",
        ]
        return None, f"{tool.name!r} takes {wanted}: " + "; ".join(p for p in parts if p)
    values = {}
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return None, f"argument {key!r} of {tool.name!r} must be a string"
        values[str(key)] = str(value)
    return values, ""


def _written_calls(text: str) -> list[tuple[Any, Any]]:
    """The ``(name, arguments)`` of each ``<tool_call>`` block in ``text``; a block that
    is not a JSON object with a name is kept as a call to no tool, so it is refused."""
    opening, closing = TEXT_TOOL_CALL
    calls: list[tuple[Any, Any]] = []
    start = text.find(opening)
    while start != -1:
        end = text.find(closing, start + len(opening))
        if end == -1:
            end = len(text)
        body = text[start + len(opening) : end].strip()
        try:
            parsed = json.loads(body)
        except (json.JSONDecodeError, RecursionError):
            parsed = None
        if isinstance(parsed, Mapping) and isinstance(parsed.get("name"), str):
            calls.append((parsed["name"], parsed.get("arguments", {})))
        else:
            calls.append((None, None))
        start = text.find(opening, end + len(closing))
    return calls
