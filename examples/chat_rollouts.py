"""Multi-turn rollouts in your own loop (or verl's, or any trainer's): the episode pool
plays many episodes at once as chats, and each record holds the whole conversation (the
messages and tools a model saw, every reply as it wrote it) and each step's reward, so a
trainer can rebuild the exact sequences it sampled.

    python examples/chat_rollouts.py                       # tiny random model, CPU
    python examples/chat_rollouts.py --model Qwen/Qwen2.5-0.5B-Instruct --env taskgym/Shell-v0

The loop, per episode: ``messages = episode.chat()``, then until the episode is done:
sample a reply to ``messages`` (with ``episode.conversation.native_tools``), and
``messages += [reply, *await episode.reply(reply)]``. A reply's reasoning is never
played, every tool call in it is (one step each), and a call that cannot be read is
answered with what was wrong. Needs ``pip install 'taskgym[trl]'`` (torch, transformers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
from pathlib import Path
from typing import Any


class Policy:
    """Samples one reply to a conversation with a transformers model (one at a time:
    the model is shared by the episodes' threads)."""

    def __init__(self, name: str, max_new_tokens: int) -> None:
        from tiny_chat_model import load  # noqa: PLC0415 - beside this file

        self.model, self.tokenizer = load(name)
        self.max_new_tokens = max_new_tokens
        self._lock = threading.Lock()

    def reply(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> dict[str, Any]:
        from tiny_chat_model import sample_reply  # noqa: PLC0415 - beside this file

        with self._lock:
            text = sample_reply(self.model, self.tokenizer, messages, tools, self.max_new_tokens)
        # Tool calls the model wrote in its text (<tool_call>{...}</tool_call>) are read
        # by taskgym.chat; a server that parses them would send them as tool_calls.
        return {"role": "assistant", "content": text}


async def rollout(pool: Any, policy: Policy, spec: Any) -> dict[str, Any]:
    async with await pool.start(spec) as episode:
        messages = episode.chat()
        tools = episode.conversation.native_tools
        while not episode.done:
            reply = await asyncio.to_thread(policy.reply, messages, tools)
            messages = [*messages, reply, *await episode.reply(reply)]
        record: dict[str, Any] = episode.record.to_json()
        return record


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    from taskgym.parallel import AsyncEpisodePool, EpisodeSpec  # noqa: PLC0415

    policy = Policy(args.model, args.max_new_tokens)
    turns = {"max_turns": args.max_turns}
    specs = [
        EpisodeSpec(args.env, seed=seed, episode=seed, agent=args.model, kwargs=turns)
        for seed in range(args.episodes)
    ]
    async with AsyncEpisodePool(concurrency=args.concurrency) as pool:
        return await asyncio.gather(*(rollout(pool, policy, spec) for spec in specs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny", help="'tiny' or a Hugging Face model")
    parser.add_argument("--env", default="taskgym/ArithmeticRetry-v0")
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-turns", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--out", type=Path, default=Path("rollouts.jsonl"))
    args = parser.parse_args()
    try:
        import transformers  # noqa: F401, PLC0415 - the model's library
    except ImportError:
        raise SystemExit("this example needs transformers: pip install 'taskgym[trl]'") from None
    records = asyncio.run(main_async(args))
    with args.out.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    turns = sum(len(r["actions"]) for r in records)
    mean = sum(r["reward"] for r in records) / len(records)
    print(f"{len(records)} episodes of {args.env}, {turns} turns, mean reward {mean:.2f}")
    print(f"conversations and per-step rewards in {args.out}")


if __name__ == "__main__":
    main()
