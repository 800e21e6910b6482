"""A tiny policy learns taskgym/ArithmeticEasy-v0 on a laptop CPU, through the public
API only: ``gymnasium.make``, ``reset``, ``step`` and a reward of one's own.

    pip install 'taskgym[demo]'          # torch (CPU) and matplotlib
    python examples/train_tiny_policy.py --minutes 10 --seed 0 --out runs/tiny

(``--updates N`` stops after N updates instead: the same seed gives the same run.)

The policy reads the two numbers and the operator from the observation's text and
writes the answer as a sign and three digits, each drawn from a small network's
softmax. It is trained with a group-relative policy gradient (GRPO without a KL term):
every problem is answered ``--group`` times, and each answer's advantage is its reward
minus its group's mean, over the group's spread. The reward is pluggable, so the run
pays partial credit: the fraction of the sign and digits that match the expected answer
(read from the env's verdict, after the episode). The solve rate (what the ``binary``
reward pays: the whole answer exact) is logged beside it. It writes ``log.jsonl`` (one
line an update) and ``curve.png``.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

import gymnasium as gym

import taskgym  # noqa: F401 - registers the envs
from taskgym import Outcome

ENV_ID = "taskgym/ArithmeticEasy-v0"
_EXPRESSION = re.compile(r"^\s*(\d+) ([+-]) (\d+)\s*$", re.MULTILINE)
POSITIONS = 4  # sign, hundreds, tens, ones


def positions(number: int) -> list[int]:
    """An answer as its sign (0 for +, 1 for -) and three digits."""
    magnitude = abs(number)
    return [int(number < 0), magnitude // 100 % 10, magnitude // 10 % 10, magnitude % 10]


def answer_text(choice: list[int]) -> str:
    value = choice[1] * 100 + choice[2] * 10 + choice[3]
    return f"-{value}" if choice[0] and value else str(value)


def digit_credit(outcome: Outcome) -> float:
    """The run's reward: the fraction of sign and digits right (1.0 when solved)."""
    details = outcome.verdict.details
    if not outcome.verdict.parsed or "answer" not in details:
        return 0.0
    given, expected = positions(int(details["answer"])), positions(int(details["expected"]))
    return sum(g == e for g, e in zip(given, expected, strict=True)) / POSITIONS


def features(observation: str) -> list[float]:
    """One-hot digits of both numbers and the operator: what the policy sees."""
    match = _EXPRESSION.search(observation)
    if match is None:
        raise ValueError(f"no 'a + b' or 'a - b' in the observation: {observation[:200]!r}")
    a, op, b = int(match[1]), match[2], int(match[3])
    vector = [0.0] * 42
    for offset, number in ((0, a), (20, b)):
        vector[offset + number // 10 % 10] = 1.0
        vector[offset + 10 + number % 10] = 1.0
    vector[40 + (op == "-")] = 1.0
    return vector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="stop after (10)")
    parser.add_argument("--updates", type=int, help="or after this many updates")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--problems", type=int, default=16, help="problems an update")
    parser.add_argument("--group", type=int, default=32, help="answers a problem")
    parser.add_argument("--out", type=Path, default=Path("runs/tiny-policy"))
    args = parser.parse_args()
    try:
        import torch  # noqa: PLC0415 - the demo extra
    except ImportError:
        raise SystemExit(
            "this demo needs torch and matplotlib: pip install 'taskgym[demo]'"
        ) from None
    args.out.mkdir(parents=True, exist_ok=True)
    history = train(torch, args)
    _plot(history, args.out / "curve.png", args)
    tenth = max(len(history) // 20, 1)
    for name in ("mean_reward", "solve_rate"):
        before = sum(h[name] for h in history[:tenth]) / tenth
        after = sum(h[name] for h in history[-tenth:]) / tenth
        print(f"{name}: {before:.3f} over the first 5% of updates, {after:.3f} over the last 5%")
    print(f"wrote {args.out / 'log.jsonl'} and {args.out / 'curve.png'}")


def train(torch: Any, args: argparse.Namespace) -> list[dict[str, float]]:
    """Updates until the time or the count runs out; each is logged to log.jsonl."""
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)  # deterministic, and the env gets the other core
    policy = torch.nn.Sequential(
        torch.nn.Linear(42, 256), torch.nn.ReLU(), torch.nn.Linear(256, 2 + 10 * 3)
    )
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
    env = gym.make(ENV_ID, reward=digit_credit)
    heads = [(0, 2), (2, 12), (12, 22), (22, 32)]
    start, seed = time.monotonic(), args.seed * 1_000_000
    history: list[dict[str, float]] = []
    with (args.out / "log.jsonl").open("w") as log:
        while time.monotonic() - start < args.minutes * 60 and len(history) != args.updates:
            inputs, task_ids = [], []
            for _ in range(args.problems):
                observation, info = env.reset(seed=seed)
                seed += 1
                inputs.append(features(observation))
                task_ids.append(info["task_id"])
            logits = policy(torch.tensor(inputs)).repeat_interleave(args.group, dim=0)
            dists = [torch.distributions.Categorical(logits=logits[:, a:b]) for a, b in heads]
            choices = torch.stack([d.sample() for d in dists], dim=1)
            log_prob = sum(d.log_prob(choices[:, i]) for i, d in enumerate(dists))
            rewards, solved = [], []
            for row, choice in enumerate(choices.tolist()):
                env.reset(options={"task_id": task_ids[row // args.group]})
                _, reward, _, _, info = env.step(answer_text(choice))
                rewards.append(float(reward))
                solved.append(float(info["verdict"]["solved"]))
            grouped = torch.tensor(rewards).view(args.problems, args.group)
            centred = grouped - grouped.mean(dim=1, keepdim=True)
            advantage = (centred / (grouped.std(dim=1, keepdim=True) + 1e-4)).view(-1)
            loss = -(advantage * log_prob).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            entry = {
                "update": len(history) + 1,
                "seconds": round(time.monotonic() - start, 2),
                "episodes": (len(history) + 1) * args.problems * args.group,
                "mean_reward": sum(rewards) / len(rewards),
                "solve_rate": sum(solved) / len(solved),
            }
            history.append(entry)
            log.write(json.dumps(entry) + "\n")
            if entry["update"] % 100 == 0:
                print(
                    f"update {entry['update']:5d}  {entry['seconds']:7.1f} s  reward "
                    f"{entry['mean_reward']:.3f}  solved {entry['solve_rate']:.3f}",
                    flush=True,
                )
    env.close()
    return history


def _plot(history: list[dict[str, float]], path: Path, args: argparse.Namespace) -> None:
    import matplotlib  # noqa: PLC0415 - the demo extra

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    window = 20
    episodes = [h["episodes"] for h in history]
    figure, axis = plt.subplots(figsize=(7, 4))
    for name, label in (("mean_reward", "reward (digits right)"), ("solve_rate", "solved")):
        values = [h[name] for h in history]
        smooth = [
            sum(values[max(0, i - window + 1) : i + 1])
            / len(values[max(0, i - window + 1) : i + 1])
            for i in range(len(values))
        ]
        axis.plot(episodes, smooth, label=label)
    axis.set_xlabel("episodes")
    axis.set_ylabel(f"mean over the last {window} updates")
    axis.set_ylim(0, 1)
    axis.set_title(f"{ENV_ID}: a tiny policy on CPU (seed {args.seed})")
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
