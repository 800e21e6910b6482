"""The chat layer (taskgym.chat): system prompts, tool schemas, and the reading of a
model's reply into actions: reasoning removed, every native call read in order, bad
calls refused with a reason, tool calls written in text, and the history kept whole.
The agent's side of it (an OpenAI-compatible server) is in tests/test_openai_agent.py."""

from __future__ import annotations

import json
import time
from typing import Any

import gymnasium as gym
import pytest

from taskgym.chat import (
    SYSTEM_PROMPTS,
    Conversation,
    PlannedAction,
    strip_reasoning,
    system_prompt,
    tool_schemas,
)
from taskgym.core import Task


def _task(env_id: str) -> Task:
    env = gym.make(env_id)
    task: Task = env.unwrapped.task  # type: ignore[attr-defined]
    env.close()
    return task


@pytest.fixture(scope="module")
def shell() -> Task:
    """A multi-turn task with tools (run_command, submit); no sandbox is started."""
    return _task("taskgym/Shell-v0")


def _call(name: str, arguments: Any, call_id: str) -> dict[str, Any]:
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": raw}}


# -- reasoning ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "left"),
    [
        ("<think>try 41</think><answer>42</answer>", "<answer>42</answer>"),
        ("<THINK>a</THINK> x <thinking>b</thinking> y", "x  y"),
        ("<reasoning>run `rm -rf /`</reasoning>ls", "ls"),
        # the opening tag was in the prompt (a chat template that opens the block)
        ("the model thought rm -rf ~</think>\nls -l", "ls -l"),
        # never closed: all of it is reasoning
        ("ls <think>and then rm -rf ~", "ls"),
        # nested blocks close at the outer one
        ("<think>a <think>b</think> c</think>done", "done"),
        ("no reasoning at all", "no reasoning at all"),
    ],
)
def test_reasoning_is_stripped(reply: str, left: str) -> None:
    assert strip_reasoning(reply) == left


def test_reasoning_is_never_an_action_in_any_family(shell: Task) -> None:
    for env_id in ("taskgym/Arithmetic-v0", "taskgym/CodeTests-v0", "taskgym/Shell-v0"):
        chat = Conversation(_task(env_id))
        chat.start("prompt")
        planned = chat.read({"content": "<think>```python\nimport os\n```rm -rf /</think>"})
        assert [p.action for p in planned] == [""]
    # a tool call written inside reasoning is not a call
    chat = Conversation(shell)
    chat.start("prompt")
    call = '<tool_call>{"name": "run_command", "arguments": {"command": "x"}}</tool_call>'
    hidden = f"<think>{call}</think>"
    assert chat.read({"content": hidden + "ls"}) == [PlannedAction("ls")]


def test_reading_is_linear_on_large_replies(shell: Task) -> None:
    chat = Conversation(shell)
    chat.start("prompt")
    huge = [
        ("<think>" * 200_000, 1),  # all reasoning: one empty text action
        ("</think>" * 200_000, 1),
        ("<tool_call>" * 100_000, 1),  # one block to the end, not JSON: refused
        ("<tool_call>" + "[" * 200_000 + "</tool_call>", 1),  # deeper than json nests
        ('<tool_call>{"name": "submit"}</tool_call>' * 50_000, 50_000),
    ]
    for text, count in huge:
        started = time.perf_counter()
        planned = chat.plan(text)
        assert time.perf_counter() - started < 5  # a hang would take minutes
        assert len(planned) == count
    assert chat.plan(huge[0][0]) == [PlannedAction("")]
    assert chat.plan(huge[2][0])[0].refused and chat.plan(huge[3][0])[0].refused


# -- prompts and tools -------------------------------------------------------------------


def test_system_prompts_say_how_to_act(shell: Task) -> None:
    arithmetic = _task("taskgym/Arithmetic-v0")
    assert system_prompt(arithmetic) == SYSTEM_PROMPTS["math"]
    assert "tools you are given" in system_prompt(shell, tools="native")
    written = system_prompt(shell, tools="text")
    assert "<tool_call>" in written and '"name": "run_command"' in written
    assert "one action" in system_prompt(shell, tools="off")
    assert system_prompt(shell, override="Be brief.").startswith("Be brief.")


def test_tool_schemas_are_openai_functions(shell: Task) -> None:
    schemas = tool_schemas(shell)
    assert [s["function"]["name"] for s in schemas] == ["run_command", "submit"]
    run = schemas[0]["function"]["parameters"]
    assert run["type"] == "object" and run["required"] == ["command"]
    assert tool_schemas(_task("taskgym/Arithmetic-v0")) == []
    assert Conversation(shell, tools="text").native_tools == []


# -- native tool calls -------------------------------------------------------------------


def test_every_call_of_a_reply_is_read_in_order_and_kept(shell: Task) -> None:
    chat = Conversation(shell)
    chat.start("prompt")
    calls = [
        _call("run_command", {"command": "ls"}, "a"),
        _call("run_command", {"command": "pwd"}, "b"),
        _call("submit", {}, "c"),
    ]
    planned = chat.read({"content": None, "tool_calls": calls})
    assert [(p.action, p.call_id, p.tool) for p in planned] == [
        ("ls", "a", "run_command"),
        ("pwd", "b", "run_command"),
        ("submit", "c", "submit"),
    ]
    assert chat.messages[-1] == {"role": "assistant", "content": None, "tool_calls": calls}
    chat.observe(planned[0], "file.txt")
    assert chat.messages[-1] == {"role": "tool", "tool_call_id": "a", "content": "file.txt"}


@pytest.mark.parametrize(
    ("call", "told"),
    [
        (_call("run_command", '{"command": "ls"', "x"), "not valid JSON"),
        (_call("run_command", "[1, 2]", "x"), "must be a JSON object"),
        (_call("rm_everything", {}, "x"), "no tool named 'rm_everything'"),
        (_call("run_command", {"cmd": "ls"}, "x"), "unexpected ['cmd']; missing ['command']"),
        (_call("run_command", {"command": ["ls"]}, "x"), "must be a string"),
        (_call("run_command", "[" * 100_000, "x"), "nested too deeply"),
        ({"id": "x", "type": "function"}, "needs a function"),
    ],
)
def test_a_bad_call_is_refused_and_the_model_told_why(
    shell: Task, call: dict[str, Any], told: str
) -> None:
    chat = Conversation(shell)
    chat.start("prompt")
    good = _call("run_command", {"command": "ls"}, "ok")
    bad, fine = chat.read({"content": "", "tool_calls": [call, good]})
    assert bad.refused and told in str(bad.error) and fine.action == "ls"
    chat.refuse(bad)
    assert chat.messages[-1]["role"] == "tool" and chat.messages[-1]["tool_call_id"] == "x"
    assert told in chat.messages[-1]["content"]
    assert len(chat.messages[-2]["tool_calls"]) == 2  # the raw reply, both calls kept


def test_numbers_are_taken_as_strings(shell: Task) -> None:
    chat = Conversation(shell)
    (planned,) = chat.plan("", [_call("run_command", {"command": 7}, "n")])
    assert planned.action == "7"


def test_calls_the_episode_end_left_unrun_are_answered(shell: Task) -> None:
    chat = Conversation(shell)
    chat.start("prompt")
    calls = [_call("submit", {}, "a"), _call("run_command", {"command": "ls"}, "b")]
    first, second = chat.read({"content": None, "tool_calls": calls})
    chat.observe(first, "done")
    chat.ended([second])
    answered = [m["tool_call_id"] for m in chat.messages if m["role"] == "tool"]
    assert answered == ["a", "b"] and "episode ended" in chat.messages[-1]["content"]


# -- the text protocol -------------------------------------------------------------------


def test_tool_calls_written_in_text(shell: Task) -> None:
    chat = Conversation(shell, tools="text")
    chat.start("prompt")
    reply = (
        "<think>list first</think>I will look.\n"
        '<tool_call>{"name": "run_command", "arguments": {"command": "ls -l"}}</tool_call>\n'
        '<tool_call>{"name": "submit", "arguments": {}}</tool_call>'
    )
    planned = chat.read({"content": reply})
    assert [(p.action, p.call_id, p.tool) for p in planned] == [
        ("ls -l", None, "run_command"),
        ("submit", None, "submit"),
    ]
    chat.observe(planned[0], "total 0")
    assert chat.messages[-1] == {"role": "user", "content": "total 0"}


@pytest.mark.parametrize(
    "block",
    ["<tool_call>not json</tool_call>", '<tool_call>{"arguments": {}}</tool_call>', "<tool_call>"],
)
def test_a_bad_written_call_is_refused(shell: Task, block: str) -> None:
    (planned,) = Conversation(shell).plan(block)
    assert planned.refused and "JSON object" in str(planned.error)


def test_without_calls_the_text_is_the_action(shell: Task) -> None:
    assert Conversation(shell).plan("  ls -l \n") == [PlannedAction("ls -l")]
    # a task without tools never reads <tool_call> blocks: the text is its answer
    arithmetic = Conversation(_task("taskgym/Arithmetic-v0"))
    text = '<tool_call>{"name": "x"}</tool_call><answer>4</answer>'
    assert arithmetic.plan(text) == [PlannedAction(text)]


def test_a_server_without_tools_gets_the_text_protocol(shell: Task) -> None:
    chat = Conversation(shell)
    chat.start("prompt")
    assert chat.native_tools
    chat.without_native_tools()
    assert chat.native_tools == [] and "<tool_call>" in chat.messages[0]["content"]


def test_bad_mode_is_refused(shell: Task) -> None:
    with pytest.raises(ValueError, match="native"):
        Conversation(shell, tools="sometimes")
