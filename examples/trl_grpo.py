"""GRPO with TRL on a single-turn taskgym env: the env's prompts are the dataset, its
graders the reward. Runs as shipped on a CPU with a tiny random model made here
(``--model tiny``, the default: it shows the plumbing, it learns nothing); pass a real
model to train one. Needs ``pip install 'taskgym[trl]'``.

    python examples/trl_grpo.py                                   # tiny, 2 steps, CPU
    python examples/trl_grpo.py --model Qwen/Qwen2.5-0.5B-Instruct \\
        --env taskgym/CodeTests-v0 --steps 100

Only the two lines marked are taskgym's; the rest is TRL's own API.
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny", help="'tiny' or a Hugging Face model")
    parser.add_argument("--env", default="taskgym/ArithmeticEasy-v0")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--count", type=int, default=64, help="rows, for envs made from seeds")
    parser.add_argument("--out", default="grpo-out")
    args = parser.parse_args()
    try:
        import torch  # noqa: PLC0415 - optional libraries
        from trl import GRPOConfig, GRPOTrainer  # noqa: PLC0415
    except ImportError:
        raise SystemExit("this example needs TRL: pip install 'taskgym[trl]'") from None
    from tiny_chat_model import load  # noqa: PLC0415 - beside this file

    from taskgym.trainers import to_dataset, trl_reward  # noqa: PLC0415

    model, tokenizer = load(args.model)
    dataset = to_dataset(args.env, chat=True, count=args.count)  # taskgym: the prompts
    reward = trl_reward(args.env)  # taskgym: the reward, on warm graders
    on_gpu = torch.cuda.is_available()
    try:
        trainer = GRPOTrainer(
            model=model,
            processing_class=tokenizer,
            reward_funcs=reward,
            args=GRPOConfig(
                output_dir=args.out,
                max_steps=args.steps,
                per_device_train_batch_size=4,
                num_generations=4,
                max_completion_length=64 if args.model == "tiny" else 512,
                use_cpu=not on_gpu,
                bf16=on_gpu and torch.cuda.is_bf16_supported(),
                report_to="none",
                logging_steps=1,
                save_strategy="no",
            ),
            train_dataset=dataset,
        )
        trainer.train()
    finally:
        reward.close()
    rewards = [entry["reward"] for entry in trainer.state.log_history if "reward" in entry]
    print(f"{args.env}: {len(rewards)} steps, mean reward per step {rewards}")


if __name__ == "__main__":
    main()
