"""Trainer adapters, called the way the trainers call them: TRL's own GRPOTrainer where
TRL is installed (the trl extra; CI requires it), and its exact call signature (from
GRPOTrainer._calculate_rewards) in the default run; verl, which needs a GPU stack, with
the keyword call of its NaiveRewardManager. datasets is in the test extra."""

from __future__ import annotations

import math
from typing import Any

import pytest

from taskgym import ConfigError
from taskgym.trainers import prompt_rows, to_dataset, trl_reward, verl_compute_score, verl_rows

EASY = "taskgym/ArithmeticEasy-v0"
CODE = "taskgym/CodeTests-v0"


def _call_like_trl(reward: Any, rows: list[dict[str, Any]], completions: list[Any]) -> list[float]:
    """What GRPOTrainer does with a batch: every column but the prompt (and completion)
    becomes a keyword list, one value a completion; None becomes NaN."""
    keys = [key for key in rows[0] if key not in ("prompt", "completion")]
    reward_kwargs = {key: [row[key] for row in rows] for key in keys}
    reward_kwargs["trainer_state"] = object()  # TRL >= 0.17 passes its TrainerState
    output = reward(
        prompts=[row["prompt"] for row in rows],
        completions=completions,
        completion_ids=[[1, 2, 3] for _ in completions],
        **reward_kwargs,
    )
    return [r if r is not None else math.nan for r in output]


def test_prompt_rows_carry_the_task_id_and_replay_the_env() -> None:
    rows = prompt_rows(EASY, count=3, seed=5)
    assert [set(r) for r in rows] == [{"prompt", "task_id", "env_id"}] * 3
    chat = prompt_rows(CODE, count=2, chat=True)
    assert [m["role"] for m in chat[0]["prompt"]] == ["system", "user"]
    assert chat[0]["task_id"] == "reverse-words" and len(prompt_rows(CODE)) == 57
    with pytest.raises(ConfigError, match="give count"):
        prompt_rows(EASY)
    # A multi-turn env's prompts export too; its completions cannot be graded alone.
    assert prompt_rows("taskgym/ArithmeticRetry-v0", count=1)[0]["task_id"]
    with pytest.raises(ConfigError, match="multi-turn"):
        trl_reward("taskgym/ArithmeticRetry-v0")(completions=["1"], task_id=["x"])


def test_the_trl_reward_scores_a_group_of_completions_as_episodes_would() -> None:
    import gymnasium as gym

    rows = prompt_rows(CODE, count=2, chat=True)
    env = gym.make(CODE)
    right = env.unwrapped.task.get(rows[0]["task_id"]).solution[0]  # type: ignore[attr-defined]
    env.close()
    # A GRPO group: each prompt repeated, one completion each (conversational format).
    group = [rows[0], rows[0], rows[1]]
    completions = [
        [{"role": "assistant", "content": right}],
        [{"role": "assistant", "content": "```python\ndef reverse_words(s):\n    return s\n```"}],
        [{"role": "assistant", "content": "no code"}],
    ]
    reward = trl_reward(CODE, workers=2)
    try:
        assert reward.__name__ == "taskgym_CodeTests_v0"
        assert _call_like_trl(reward, group, completions) == [1.0, 0.0, 0.0]
        # Text completions (TRL's standard format) too, with the graders still warm.
        assert _call_like_trl(reward, group[:1], [right]) == [1.0]
        with pytest.raises(ConfigError, match="task_id column"):
            reward(prompts=["p"], completions=["c"])
    finally:
        reward.close()


def test_verl_compute_score_grades_a_row_as_verl_calls_it() -> None:
    rows = verl_rows(EASY, count=2)
    row = rows[0]
    assert row["data_source"] == EASY and row["reward_model"]["style"] == "rule"
    import gymnasium as gym

    env = gym.make(EASY)
    answer = env.unwrapped.task.get(row["reward_model"]["ground_truth"]).solution[0]  # type: ignore[attr-defined]
    env.close()
    # verl's NaiveRewardManager: keyword arguments, one response at a time.
    score = verl_compute_score(
        data_source=row["data_source"],
        solution_str=f"The answer is <answer>{answer}</answer>",
        ground_truth=row["reward_model"]["ground_truth"],
        extra_info=row["extra_info"],
    )
    assert score == 1.0
    wrong = verl_compute_score(
        data_source=row["data_source"],
        solution_str="<answer>not a number</answer>",
        ground_truth=row["reward_model"]["ground_truth"],
        extra_info=row["extra_info"],
    )
    assert wrong == 0.0


def test_a_datasets_dataset_of_an_envs_prompts() -> None:
    pytest.importorskip("datasets", reason="datasets is in the test extra")
    dataset = to_dataset(CODE, count=4)
    assert dataset.num_rows == 4
    assert dataset.column_names == ["prompt", "task_id", "env_id"]
    assert dataset[0]["task_id"] == "reverse-words"


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")  # transformers' and TRL's own deprecation notices
def test_a_real_grpo_trainer_step_calls_the_taskgym_reward(tmp_path: Any) -> None:
    """TRL's own GRPOTrainer, two steps on CPU with a tiny random model and a
    character tokenizer (tests/tiny_model.py: no model can be downloaded): it calls the reward
    with the dataset's columns and logs what the reward paid."""
    from tests.conftest import missing
    from tests.tiny_model import character_tokenizer, tiny_gpt2_config

    try:
        from datasets import Dataset
        from transformers import GPT2LMHeadModel
        from trl import GRPOConfig, GRPOTrainer
    except ImportError as e:
        missing("trl", f"TRL is not installed ({e}): pip install 'taskgym[trl]'")

    tokenizer = character_tokenizer()
    config = tiny_gpt2_config(context=512)
    reward = trl_reward(EASY, workers=1)
    seen: list[dict[str, Any]] = []

    def recorded(**kwargs: Any) -> list[float | None]:
        paid = reward(**kwargs)
        seen.append({**kwargs, "paid": paid})
        return paid

    recorded.__name__ = reward.__name__
    trainer = GRPOTrainer(
        model=GPT2LMHeadModel(config),
        processing_class=tokenizer,
        reward_funcs=recorded,
        args=GRPOConfig(
            output_dir=str(tmp_path),
            per_device_train_batch_size=2,
            num_generations=2,
            max_completion_length=8,
            max_steps=2,
            use_cpu=True,
            report_to="none",
            logging_steps=1,
            save_strategy="no",
        ),
        train_dataset=Dataset.from_list(prompt_rows(EASY, count=4)),
    )
    try:
        trainer.train()
    finally:
        reward.close()
    assert len(seen) == 2  # once a step
    call = seen[0]
    assert {"prompts", "completions", "task_id", "env_id"} <= set(call)
    assert len(call["completions"]) == len(call["task_id"]) == 2
    assert all(isinstance(c, str) for c in call["completions"])
    logged = [entry for entry in trainer.state.log_history if "reward" in entry]
    assert logged and logged[0]["reward"] == pytest.approx(sum(call["paid"]) / 2)
