"""An agent for any OpenAI-compatible chat endpoint (vLLM, SGLang, llama.cpp's server,
hosted APIs): ``taskgym run --agent openai --model M --base-url URL``.

Each episode is one conversation, written and read by :mod:`taskgym.chat`: a system
prompt for the env's family, the prompt as the first user message, then model calls. A
multi-turn task that describes its actions as tools (:meth:`~taskgym.core.Task.tools`:
run a command, run code, submit) gets them as OpenAI tools; every call of a reply is
played in order, one env turn each, and each observation goes back as that call's
result. A call the task cannot read is refused with a tool message saying why and
costs no turn. Without tool calls, the reply's text (reasoning removed) is the action
(``tools="off"`` sends no tools; ``"auto"`` switches to tool calls written in text for
good when a server refuses tools).

Requests that fail for a passing reason (429, 5xx, a dropped connection, a time-out)
are retried with exponential back-off and jitter, honouring ``Retry-After``; any other
refusal raises :class:`~taskgym.errors.AgentError` with the status and the server's
words. Tokens, requests, retries and cost (from ``price_in`` / ``price_out``, USD a
million tokens) are counted per episode and written to the run file
(``agent_stats``). The standard library speaks HTTP here: no extra is needed.
"""

from __future__ import annotations

import json
import os
import random
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from taskgym.chat import SYSTEM_PROMPTS, Conversation, PlannedAction, strip_reasoning
from taskgym.envs.env import TaskEnv
from taskgym.errors import AgentError, ConfigError

__all__ = ["SYSTEM_PROMPTS", "OpenAIAgent"]

_RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
_MAX_BACKOFF_SECONDS = 30.0


class OpenAIAgent:
    """Plays episodes by asking a chat model (see the module docstring).

    Args:
        model: the model name the endpoint serves.
        base_url: the API root, such as ``http://localhost:8000/v1`` (default: the
            ``OPENAI_BASE_URL`` environment variable, else OpenAI's).
        api_key: the bearer token (default: the variable ``api_key_env`` names; none
            for local servers that need none).
        api_key_env: where to read the key from (``OPENAI_API_KEY``).
        tools: ``"auto"`` (tools for tasks that have them, text if the server refuses),
            ``"on"`` (a refusal is an error) or ``"off"`` (always text).
        temperature: the sampling temperature sent with each request.
        max_tokens: the most tokens a reply may have (sent when set).
        retries: attempts after the first for a request that fails for a passing reason.
        backoff: the first wait in seconds; it doubles each retry (with jitter).
        timeout: seconds for one HTTP request.
        price_in: USD a million prompt tokens, for the cost.
        price_out: USD a million completion tokens, for the cost.
        system_prompt: instead of the family's.
        extra_body: more fields for each request (``top_p``, ``seed``, a server's own).
        max_refused_replies: replies in a row whose every tool call is refused (each
            refusal told to the model, no env turn spent) before the next such reply's
            text is played as the action.
    """

    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        tools: str = "auto",
        temperature: float = 0.0,
        max_tokens: int | None = None,
        retries: int = 5,
        backoff: float = 0.5,
        timeout: float = 120.0,
        price_in: float = 0.0,
        price_out: float = 0.0,
        system_prompt: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        max_refused_replies: int = 2,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise ConfigError("the openai agent needs a model name (--model)")
        if tools not in ("auto", "on", "off"):
            raise ConfigError(f"tools is 'auto', 'on' or 'off', got {tools!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ConfigError(f"retries must be an int >= 0, got {retries!r}")
        if isinstance(max_refused_replies, bool) or not isinstance(max_refused_replies, int):
            raise ConfigError(f"max_refused_replies must be an int, got {max_refused_replies!r}")
        self.model = model
        root = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.url = root.rstrip("/") + "/chat/completions"
        self.api_key = api_key if api_key is not None else os.environ.get(api_key_env)
        self.tools_mode = tools
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.price_in = price_in
        self.price_out = price_out
        self.system_prompt = system_prompt
        self.extra_body = dict(extra_body or {})
        self.max_refused_replies = max_refused_replies
        self._server_takes_tools = True
        self._random = random.Random()
        self._chat: Conversation | None = None
        self._queue: list[PlannedAction] = []  # what the last reply asked for, not yet played
        self._playing: PlannedAction | None = None  # the action the next observation answers
        self._turn = 0
        self._stats: dict[str, Any] = {}

    # -- the Agent protocol --------------------------------------------------------------

    def start(self, env: TaskEnv, observation: str, info: dict[str, Any]) -> None:
        native = self.tools_mode != "off" and self._server_takes_tools
        mode = "native" if native else ("off" if self.tools_mode == "off" else "text")
        self._chat = Conversation(env.task, tools=mode, system=self.system_prompt)
        self._chat.start(observation)
        self._queue = []
        self._playing = None
        self._turn = 0
        self._stats = {
            "model": self.model,
            "requests": 0,
            "retries": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cost_usd": 0.0,
            "tool_calls": 0,
            "text_actions": 0,
            "refused_calls": 0,
        }

    def act(self, observation: str, info: dict[str, Any]) -> str:
        chat = self._conversation()
        if self._playing is not None:  # the first observation is the prompt, already sent
            chat.observe(self._playing, observation)
            self._playing = None
        self._turn += 1
        refused_replies = 0
        while True:
            while self._queue:
                planned = self._queue.pop(0)
                if planned.refused:
                    self._stats["refused_calls"] += 1
                    chat.refuse(planned)
                    continue
                self._playing = planned
                self._stats["tool_calls" if planned.tool else "text_actions"] += 1
                return str(planned.action)
            reply = self._complete()
            self._queue = chat.read(reply)
            if all(planned.refused for planned in self._queue):
                refused_replies += 1
                if refused_replies > self.max_refused_replies:
                    # Refusals cost the env no turn: past this many in a row, the reply's
                    # text is played, so a model that never calls right still spends turns.
                    for planned in self._queue:
                        self._stats["refused_calls"] += 1
                        chat.refuse(planned)
                    self._queue = [PlannedAction(strip_reasoning(str(reply.get("content") or "")))]

    def finish(self, observation: str, info: dict[str, Any]) -> None:
        """The episode ended with ``observation``: it answers the last action, and the
        calls the end left unrun are answered so."""
        if self._chat is None:
            return
        if self._playing is not None:
            self._chat.observe(self._playing, observation)
            self._playing = None
        self._chat.ended(self._queue)
        self._queue = []

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The episode's messages: the system prompt, every reply as the model sent it
        (every tool call included), every observation and refusal."""
        return self._chat.messages if self._chat is not None else []

    def episode_chat(self) -> dict[str, Any]:
        """The episode's conversation for the run record: its :attr:`messages` and the
        tools sent with them."""
        tools = self._chat.native_tools if self._chat is not None else []
        return {"messages": list(self.messages), "tools": tools}

    def episode_stats(self) -> dict[str, Any]:
        """What this episode cost: requests, retries, tokens, USD, actions by kind."""
        stats = dict(self._stats)
        stats["cost_usd"] = round(stats.get("cost_usd", 0.0), 8)
        return stats

    # -- one model call ------------------------------------------------------------------

    def _conversation(self) -> Conversation:
        if self._chat is None:
            raise AgentError("the openai agent was asked to act before start()")
        return self._chat

    def _complete(self) -> dict[str, Any]:
        chat = self._conversation()
        body: dict[str, Any] = {
            "model": self.model,
            "messages": chat.messages,
            "temperature": self.temperature,
            **self.extra_body,
        }
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if chat.native_tools:
            body["tools"] = chat.native_tools
        try:
            response = self._post(body)
        except AgentError as e:
            if not ("tools" in body and self.tools_mode == "auto" and _refuses_tools(e)):
                raise
            # This server takes no tools: tools in text from now on, for this and later
            # episodes.
            self._server_takes_tools = False
            chat.without_native_tools()
            body.pop("tools")
            response = self._post(body)
        usage = response.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
        self._stats["prompt_tokens"] += prompt_tokens
        self._stats["completion_tokens"] += completion_tokens
        self._stats["cost_usd"] += (
            prompt_tokens * self.price_in + completion_tokens * self.price_out
        ) / 1e6
        try:
            message: dict[str, Any] = response["choices"][0]["message"]
        except (KeyError, IndexError, TypeError) as e:
            raise AgentError(f"{self.url} answered without choices[0].message: {e!r}") from e
        return message

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.retries + 1):
            self._stats["requests"] += 1
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                    parsed = json.loads(reply.read())
                    if not isinstance(parsed, dict):
                        raise AgentError(f"{self.url} answered with {type(parsed).__name__}")
                    return parsed
            except urllib.error.HTTPError as e:
                text = e.read().decode("utf-8", "replace")[:1000]
                if e.code not in _RETRY_STATUSES or attempt == self.retries:
                    raise AgentError(
                        f"{self.url} refused the request: HTTP {e.code}: {text}"
                        + (f" (after {attempt} retries)" if attempt else "")
                    ) from e
                wait = _retry_after(e.headers.get("Retry-After"))
            except (
                urllib.error.URLError,
                TimeoutError,
                ConnectionError,
                json.JSONDecodeError,
            ) as e:
                if attempt == self.retries:
                    raise AgentError(
                        f"{self.url} could not be reached after {attempt} retries: {e}"
                    ) from e
                wait = None
            self._stats["retries"] += 1
            if wait is None:
                wait = min(self.backoff * 2**attempt, _MAX_BACKOFF_SECONDS)
                wait *= 0.5 + self._random.random()  # jitter: retries do not stampede
            time.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises


def _refuses_tools(error: AgentError) -> bool:
    text = str(error).lower()
    return "http 400" in text and "tool" in text


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds form; a date is left to back-off)."""
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), _MAX_BACKOFF_SECONDS)
    except ValueError:
        return None
