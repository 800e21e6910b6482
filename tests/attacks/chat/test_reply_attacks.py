"""Attacks through a model's reply on the chat layer and the trainer adapters that read
with it (taskgym.chat, taskgym.trainers): reasoning that carries an answer or a call,
calls that try to act after the end or twice, rewards asked for more than once."""

from __future__ import annotations

import gymnasium as gym
import pytest

from taskgym.chat import Conversation
from taskgym.trainers import prompt_rows, trl_environment, trl_reward

EASY = "taskgym/ArithmeticEasy-v0"
RETRY = "taskgym/ArithmeticRetry-v0"


def _answer(env_id: str, task_id: str) -> str:
    env = gym.make(env_id)
    env.reset(options={"task_id": task_id})
    answer: str = env.unwrapped.problem.solution[0]  # type: ignore[attr-defined]
    env.close()
    return answer


def test_an_answer_only_in_reasoning_earns_nothing() -> None:
    row = prompt_rows(EASY, count=1, seed=3)[0]
    answer = _answer(EASY, row["task_id"])
    reward = trl_reward(EASY, workers=1)
    try:
        scores = reward(
            completions=[
                f"<think>{answer}</think>",  # the answer only in reasoning
                f"<think>{answer}",  # in reasoning never closed
                f"{answer}</think>",  # before a closing tag: reasoning too
                f"<think>x</think>{answer}",  # the honest one
            ],
            task_id=[row["task_id"]] * 4,
        )
    finally:
        reward.close()
    assert scores == [0.0, 0.0, 0.0, 1.0]


def test_reasoning_cannot_smuggle_a_call_or_an_action() -> None:
    shell = gym.make("taskgym/Shell-v0")
    chat = Conversation(shell.unwrapped.task)  # type: ignore[attr-defined]
    shell.close()
    call = '<tool_call>{"name": "submit", "arguments": {}}</tool_call>'
    for text in (f"<think>{call}</think>", f"<THINKING>{call}", f"{call}</reasoning>"):
        assert [p.action for p in chat.plan(text)] == [""]


def test_the_trl_environment_pays_once_and_not_after_the_end() -> None:
    environment = trl_environment(RETRY, max_turns=2)()
    row = prompt_rows(RETRY, chat=True, count=1, seed=1)[0]
    environment.reset(**row)
    answer = _answer(RETRY, row["task_id"])
    environment.answer(text=answer)  # type: ignore[attr-defined]
    for _ in range(5):  # more right answers after the end change nothing
        assert "over" in environment.answer(text=answer)  # type: ignore[attr-defined]
    assert environment.get_reward() == environment.get_reward() == 1.0


def test_a_trl_tool_call_with_arguments_it_does_not_take_is_refused() -> None:
    environment = trl_environment(RETRY)()
    environment.reset(**prompt_rows(RETRY, chat=True, count=1)[0])
    with pytest.raises(TypeError):  # TRL answers the model with this error
        environment.answer(text="1", reward="1.0")  # type: ignore[attr-defined]
    assert environment.get_reward() == 0.0
