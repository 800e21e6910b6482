"""GRPO with TRL on a taskgym env: the env's prompts are the dataset, its graders the
reward. Needs ``pip install trl`` (and torch) and a model; nothing here is taskgym-
specific but the two lines marked.

    python examples/trl_grpo.py --model Qwen/Qwen2.5-0.5B-Instruct --env taskgym/CodeTests-v0
"""

from __future__ import annotations

import argparse

from taskgym.trainers import to_dataset, trl_reward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--env", default="taskgym/CodeTests-v0")
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    try:
        from trl import GRPOConfig, GRPOTrainer  # noqa: PLC0415 - an optional library
    except ImportError:
        raise SystemExit("this example needs TRL: pip install trl") from None

    dataset = to_dataset(args.env, chat=True)  # taskgym: prompts with a task_id column
    reward = trl_reward(args.env)  # taskgym: a reward function on warm graders
    try:
        trainer = GRPOTrainer(
            model=args.model,
            reward_funcs=reward,
            args=GRPOConfig(output_dir="grpo-out", max_steps=args.steps, num_generations=4),
            train_dataset=dataset,
        )
        trainer.train()
    finally:
        reward.close()


if __name__ == "__main__":
    main()
