"""Play a few taskgym episodes with a hand-written policy through gymnasium's API.

python examples/quickstart.py
"""

from __future__ import annotations

import re

import gymnasium as gym

import taskgym  # noqa: F401 - registers the taskgym envs


def policy(observation: str) -> str:
    """A stand-in for a language model: evaluate the expression with Python."""
    expression = observation.split("\n\n")[1].strip()
    if not re.fullmatch(r"[\d\s+\-*/()]+", expression):
        return ""
    return f"<answer>{eval(expression)}</answer>"  # safe: digits and operators only


def main() -> None:
    env = gym.make("taskgym/Arithmetic-v0", reward="binary")
    total = 0.0
    for seed in range(5):
        observation, info = env.reset(seed=seed)
        _, reward, _, _, info = env.step(policy(observation))
        print(f"{info['task_id']}: reward {reward}, verdict {info['verdict']}")
        total += float(reward)
    env.close()
    print(f"mean reward {total / 5:.2f}")


if __name__ == "__main__":
    main()
