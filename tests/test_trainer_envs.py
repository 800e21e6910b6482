"""Multi-turn episodes trained from real trainers: taskgym.trainers.trl_environment
under TRL's own GRPOTrainer (its tool loop calls reset, the tools and get_reward), and
taskgym.trainers.skyrl_env through skyrl-gym's own registry and make. TRL and skyrl-gym
are extras (trl, skyrl); CI requires both (TASKGYM_REQUIRE_BACKENDS)."""

from __future__ import annotations

import importlib
import inspect
import os
from typing import Any

import pytest

from taskgym import ConfigError
from taskgym.trainers import prompt_rows, register_skyrl_envs, skyrl_env, trl_environment
from taskgym.trainers.trl_env import TRLEnvironment
from tests.conftest import require_backend, require_module
from tests.tiny_model import EOS, VOCAB, character_tokenizer, tiny_gpt2_config

SHELL = "taskgym/Shell-v0"
COUNT = "shell-count-lines"  # solved by one command, then submit
RETRY = "taskgym/ArithmeticRetry-v0"  # multi-turn, plain text actions, no sandbox
EASY = "taskgym/ArithmeticEasy-v0"


def _require(module: str, extra: str, name: str) -> Any:
    require_module(module, extra, name)
    return importlib.import_module(module)


def _row(env_id: str, task_id: str) -> dict[str, Any]:
    rows = prompt_rows(env_id, chat=True, count=200)
    return next(row for row in rows if row["task_id"] == task_id)


# -- TRL: the environment_factory --------------------------------------------------------


def test_the_tools_are_the_tasks_actions_with_real_signatures() -> None:
    shell = trl_environment(SHELL)
    run = shell.run_command  # type: ignore[attr-defined]
    assert list(inspect.signature(run).parameters) == ["self", "command"]
    assert run.__doc__.startswith("Run one command") and "Args:\n    command:" in run.__doc__
    public = [n for n, _ in inspect.getmembers(shell, inspect.isfunction) if n[0] != "_"]
    assert sorted(public) == ["get_reward", "reset", "run_command", "submit"]
    # TRL turns each into a schema with transformers' get_json_schema
    utils = _require("transformers.utils", "trl", "trl")
    schema = utils.get_json_schema(shell().run_command)  # type: ignore[attr-defined]
    assert schema["function"]["parameters"]["required"] == ["command"]
    # a task whose action is text gets one tool, answer
    retry = [n for n, _ in inspect.getmembers(trl_environment(RETRY), inspect.isfunction)]
    assert "answer" in retry


def test_an_episode_played_as_trl_plays_it_pays_the_envs_reward() -> None:
    environment = trl_environment(RETRY, max_turns=3)()
    row = prompt_rows(RETRY, chat=True, count=1, seed=5)[0]
    assert environment.reset(**row) is None  # the row's prompt holds the problem
    assert environment.get_reward() == 0.0
    reply = environment.answer(text="<answer>-1</answer>")  # type: ignore[attr-defined]
    assert isinstance(reply, str) and environment.get_reward() == 0.0
    solution = environment._task_env.problem.solution[0]  # type: ignore[union-attr]
    environment.answer(text=solution)  # type: ignore[attr-defined]
    assert environment.get_reward() == 1.0
    assert "episode is over" in environment.answer(text="more")  # type: ignore[attr-defined]
    # a row without the prompt gets the first observation from reset
    observation = environment.reset(task_id=row["task_id"])
    assert isinstance(observation, str) and observation in row["prompt"][-1]["content"]
    assert environment.get_reward() == 0.0


def test_bad_rows_and_envs_are_refused_clearly() -> None:
    environment = trl_environment(EASY)()
    with pytest.raises(ConfigError, match="task_id"):
        environment.reset(prompt="hello")
    with pytest.raises(Exception, match="Nope"):
        trl_environment("taskgym/Nope-v0")


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.filterwarnings("ignore")  # transformers' and TRL's own deprecation notices
def test_trls_grpo_trainer_plays_a_multi_turn_shell_episode(tmp_path: Any) -> None:
    """TRL's GRPOTrainer, one step on CPU: a tiny random GPT-2 whose sampling is steered
    (a logits processor: no model can be downloaded, and a random one never writes a
    tool call) to call run_command, then submit. TRL's tool loop parses the calls with
    its Qwen 2.5 template, calls the taskgym tools, and logs get_reward as the reward."""
    require_backend("bwrap")
    _require("trl", "trl", "trl")
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from datasets import Dataset
    from transformers import GPT2LMHeadModel, LogitsProcessor, LogitsProcessorList
    from trl import GRPOConfig, GRPOTrainer
    from trl.chat_template_utils import qwen2_5_chat_template

    tokenizer = character_tokenizer(qwen2_5_chat_template)
    character = {i: c for c, i in VOCAB.items() if i > EOS}

    command = '{"command": "wc -l < data.txt > count.txt"}'
    script = [
        f'<tool_call>\n{{"name": "run_command", "arguments": {command}}}\n</tool_call>',
        '<tool_call>\n{"name": "submit", "arguments": {}}\n</tool_call>',
        "done",
    ]
    turn_start = "<|im_start|>assistant\n"

    class Script(LogitsProcessor):  # type: ignore[misc]
        """The next character of this turn's line of the script (turns are counted by
        the tool responses in the context), then end of sequence."""

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            for row, ids in enumerate(input_ids.tolist()):
                text = "".join(character.get(i, "") for i in ids)
                line = script[min(text.count("<tool_response>"), len(script) - 1)]
                said = len(text) - text.rfind(turn_start) - len(turn_start)
                scores[row, :] = -1e9
                scores[row, VOCAB[line[said]] if said < len(line) else EOS] = 0.0
            return scores

    class ScriptedGPT2(GPT2LMHeadModel):  # type: ignore[misc]
        def generate(self, *args: Any, **kwargs: Any) -> Any:
            kwargs["logits_processor"] = LogitsProcessorList([Script()])
            return super().generate(*args, **kwargs)

    calls: list[tuple[str, Any]] = []
    factory: Any = trl_environment(SHELL)

    class Recorded(factory):  # type: ignore[misc, valid-type]
        def reset(self, **row: Any) -> str | None:
            calls.append(("reset", row.get("task_id")))
            return super().reset(**row)

        def get_reward(self) -> float:
            reward = super().get_reward()
            calls.append(("get_reward", reward))
            return reward

        def _step(self, tool: Any, arguments: Any) -> str:
            calls.append((tool.name, dict(arguments)))
            return super()._step(tool, arguments)

    config = tiny_gpt2_config(context=4096)
    trainer = GRPOTrainer(
        model=ScriptedGPT2(config),
        processing_class=tokenizer,
        environment_factory=Recorded,
        args=GRPOConfig(
            output_dir=str(tmp_path),
            per_device_train_batch_size=2,
            num_generations=2,
            max_completion_length=1024,
            max_steps=1,
            use_cpu=True,
            report_to="none",
            logging_steps=1,
            save_strategy="no",
        ),
        train_dataset=Dataset.from_list([_row(SHELL, COUNT)] * 2),
    )
    trainer.train()
    assert calls.count(("reset", COUNT)) == 2
    assert calls.count(("run_command", {"command": "wc -l < data.txt > count.txt"})) == 2
    assert calls.count(("submit", {})) == 2
    assert calls.count(("get_reward", 1.0)) == 2
    logged = trainer.state.log_history[0]
    assert logged["rewards/Recorded/mean"] == 1.0 and logged["tools/failure_frequency"] == 0.0


# -- SkyRL-gym ---------------------------------------------------------------------------


def test_skyrl_gym_makes_and_plays_a_single_turn_env() -> None:
    skyrl_gym = _require("skyrl_gym", "skyrl", "skyrl")
    register_skyrl_envs([EASY])
    row = prompt_rows(EASY, chat=True, count=1, seed=2)[0]
    env = skyrl_gym.make(EASY, env_config={}, extras={"task_id": row["task_id"]})
    prompt, _ = env.init(row["prompt"])
    assert prompt == row["prompt"]  # it held the problem already
    answer = env._task_env.problem.solution[0]
    out = env.step(f"<think>is it {answer}?</think>{answer}")
    assert (out["reward"], out["done"], out["observations"]) == (1.0, True, [])
    assert out["metadata"]["verdict"]["passed"] == 1
    env.close()


@pytest.mark.integration
def test_skyrl_gym_plays_a_multi_turn_shell_episode_with_text_tool_calls() -> None:
    require_backend("bwrap")
    _require("skyrl_gym", "skyrl", "skyrl")
    # the row as verl_rows writes it: the task id is the reward spec's ground truth
    env = skyrl_env(SHELL, extras={"reward_spec": {"ground_truth": COUNT}})
    prompt, metadata = env.init([])
    assert metadata["task_id"] == COUNT
    assert prompt[0]["role"] == "system" and "<tool_call>" in prompt[0]["content"]
    call = '<tool_call>{"name": "run_command", "arguments": {"command": "%s"}}</tool_call>'
    first = env.step(
        "<think>count them</think>"
        + call % "wc -l < data.txt > count.txt"
        + '<tool_call>{"name": "rm", "arguments": {}}</tool_call>'
        + call % "cat count.txt"
    )
    assert first["done"] is False and first["reward"] == 0.0
    shown = [m["content"] for m in first["observations"]]
    assert len(shown) == 3 and "no tool named 'rm'" in shown[1] and "137" in shown[2]
    last = env.step('<tool_call>{"name": "submit", "arguments": {}}</tool_call>')
    assert (last["done"], last["reward"]) == (True, 1.0)
    assert env.get_metrics() == {"turns": 2, "reward": 1.0}
    env.close()
    # the next trajectory takes the same env, warm
    again = skyrl_env(SHELL, extras={"task_id": COUNT})
    assert again._env is env._env
    again.close()


def test_skyrl_rows_must_say_which_problem() -> None:
    _require("skyrl_gym", "skyrl", "skyrl")
    env = skyrl_env(EASY, extras={"prompt": "no id"})
    with pytest.raises(ConfigError, match="task_id"):
        env.init([])
    env.close()


def test_the_trl_environment_class_is_the_documented_one() -> None:
    assert issubclass(trl_environment(EASY), TRLEnvironment)
