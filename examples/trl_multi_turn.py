"""Multi-turn GRPO with TRL's tool loop on any taskgym env: ``trl_environment(env_id)`` is
the trainer's ``environment_factory``. TRL offers the task's actions to the model as
tools (a shell's ``run_command`` and ``submit``, code's ``run_code`` and ``submit``, a
plain-text task's ``answer``), runs the calls the model makes as the episode's steps,
and takes each rollout's reward from ``get_reward``: the episode's taskgym reward.

Runs as shipped on a CPU with a tiny random model made here (``--model tiny``: it
rarely writes a tool call, so its rewards are zeros; it shows the plumbing); pass a
real model with tool calling to train one. Needs ``pip install 'taskgym[trl]'``.

    python examples/trl_multi_turn.py                                   # tiny, CPU
    python examples/trl_multi_turn.py --model Qwen/Qwen2.5-1.5B-Instruct \\
        --env taskgym/Shell-v0 --steps 200
"""

from __future__ import annotations

import argparse
import os


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny", help="'tiny' or a Hugging Face model")
    parser.add_argument("--env", default="taskgym/ArithmeticRetry-v0")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--count", type=int, default=64, help="rows, for envs made from seeds")
    parser.add_argument("--out", default="grpo-multi-turn-out")
    args = parser.parse_args()
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # environment_factory is new
    try:
        import torch  # noqa: PLC0415 - optional libraries
        from datasets import Dataset  # noqa: PLC0415
        from trl import GRPOConfig, GRPOTrainer  # noqa: PLC0415
    except ImportError:
        raise SystemExit("this example needs TRL: pip install 'taskgym[trl]'") from None
    from tiny_chat_model import load  # noqa: PLC0415 - beside this file

    from taskgym.trainers import prompt_rows, trl_environment  # noqa: PLC0415

    model, tokenizer = load(args.model)
    # taskgym: the rows say which problem each rollout plays (their task_id column)...
    rows = prompt_rows(args.env, chat=True, count=args.count)
    # ...and the factory gives each rollout an episode of the env, its tools and reward.
    environment = trl_environment(args.env)
    on_gpu = torch.cuda.is_available()
    trainer = GRPOTrainer(
        model=model,
        processing_class=tokenizer,
        environment_factory=environment,
        args=GRPOConfig(
            output_dir=args.out,
            max_steps=args.steps,
            per_device_train_batch_size=4,
            num_generations=4,
            max_completion_length=128 if args.model == "tiny" else 2048,
            max_tool_calling_iterations=8,
            use_cpu=not on_gpu,
            bf16=on_gpu and torch.cuda.is_bf16_supported(),
            report_to="none",
            logging_steps=1,
            save_strategy="no",
        ),
        train_dataset=Dataset.from_list(rows),
    )
    trainer.train()
    rewards = [entry["reward"] for entry in trainer.state.log_history if "reward" in entry]
    print(f"{args.env}: {len(rewards)} steps, mean reward per step {rewards}")


if __name__ == "__main__":
    main()
