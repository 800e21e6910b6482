"""SkyRL-gym on any taskgym env: rows in SkyRL's dataset schema, the env registered in
skyrl-gym's registry, and trajectories played the way SkyRL's generator plays them
(``skyrl_gym.make(row["env_class"], env_config=..., extras=row)``, ``init``, then
``step`` with each raw model output until ``done``). SkyRL's trainer (skyrl-train, on
GPUs) then learns from them; this runs the environment side on a CPU.

    python examples/skyrl_env.py                                  # tiny random model
    python examples/skyrl_env.py --reference                      # the reference solution
    python examples/skyrl_env.py --env taskgym/Shell-v0 --reference

With ``--reference`` each turn is the task's reference action, written as a model
without tool calling writes a tool call (``<tool_call>{...}</tool_call>``), so the
trajectories earn their reward. Needs ``pip install 'taskgym[skyrl]'`` (and
``taskgym[trl]`` for the tiny model).
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def reference_policy(env: Any) -> Any:
    """Each turn, the env's next reference action as a text tool call (or text)."""
    task = env.chat.task
    actions = iter(env.chat.task.get(env.extras["extra_info"]["task_id"]).solution)
    tools = {tool.name: tool for tool in task.tools()} if task.multi_turn else {}

    def act(messages: list[dict[str, Any]]) -> str:
        action = next(actions, "")
        for tool in tools.values():  # the tool whose call gives exactly this action
            for name in tool.parameters:
                if tool.action({name: action}) == action:
                    call = {"name": tool.name, "arguments": {name: action}}
                    return f"<tool_call>{json.dumps(call)}</tool_call>"
            if not tool.parameters and tool.action({}) == action:
                return f'<tool_call>{{"name": "{tool.name}", "arguments": {{}}}}</tool_call>'
        return action

    return act


def model_policy(name: str) -> Any:
    from tiny_chat_model import load, sample_reply  # noqa: PLC0415 - beside this file

    model, tokenizer = load(name)
    return lambda messages: sample_reply(model, tokenizer, messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="taskgym/ArithmeticRetry-v0")
    parser.add_argument("--model", default="tiny", help="'tiny' or a Hugging Face model")
    parser.add_argument("--reference", action="store_true", help="play reference solutions")
    parser.add_argument("--count", type=int, default=4)
    args = parser.parse_args()
    try:
        import skyrl_gym  # noqa: PLC0415 - the skyrl extra
    except ImportError:
        raise SystemExit("this example needs skyrl-gym: pip install 'taskgym[skyrl]'") from None
    from taskgym.trainers import register_skyrl_envs, skyrl_rows  # noqa: PLC0415

    register_skyrl_envs([args.env])  # taskgym: the env in skyrl-gym's registry
    rows = skyrl_rows(args.env, count=args.count)  # taskgym: SkyRL's dataset rows
    policy = None if args.reference else model_policy(args.model)
    for row in rows:
        env = skyrl_gym.make(row["env_class"], env_config={}, extras=row)
        messages, _ = env.init(row["prompt"])
        act = reference_policy(env) if policy is None else policy
        total, done = 0.0, False
        while not done:
            text = act(messages)
            out = env.step(text)
            total += out["reward"]
            done = out["done"]
            messages = [*messages, {"role": "assistant", "content": text}, *out["observations"]]
        env.close()
        print(f"{row['extra_info']['task_id']}: {env.turns} turns, reward {total}")


if __name__ == "__main__":
    main()
