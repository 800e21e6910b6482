"""``taskgym regrade RUN.jsonl``: grade a run's stored episodes again with today's
graders (and another reward spec if given), without the agent, and say which verdicts
changed: the check of a grader fix against past runs (:func:`taskgym.evaluation.regrade`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taskgym.cli.shared import print_table, reward_spec
from taskgym.evaluation import Regraded, regrade
from taskgym.run_file import load_run

if TYPE_CHECKING:
    from taskgym.cli.shared import Subcommands


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser(
        "regrade", help="grade a run file's episodes again and say which verdicts changed"
    )
    p.add_argument("run_file", type=Path, metavar="RUN.jsonl")
    p.add_argument("--reward", type=reward_spec, help="another reward name or JSON spec")
    p.add_argument("--out", type=Path, help="write the regraded episodes (JSON lines) to this file")
    p.add_argument("--check", action="store_true", help="exit 1 when any episode's grade changed")
    p.set_defaults(command=command)


def command(args: argparse.Namespace) -> int:
    records = load_run(args.run_file)
    regraded = regrade(records, reward=args.reward)
    changed = [r for r in regraded if r.changed]
    if changed:
        print_table(
            ("env id", "episode", "task", "reward then", "now", "why"),
            [_row(r) for r in changed],
        )
        print()
    print(f"{len(records) - len(changed)} of {len(records)} episodes graded as before")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8") as out:
            for r in regraded:
                out.write(json.dumps(_line(r), ensure_ascii=False) + "\n")
    return 1 if args.check and changed else 0


def _row(r: Regraded) -> tuple[str, ...]:
    now = "-" if r.new_reward is None else f"{r.new_reward:g}"
    why = r.error or _reason(r.new_verdict) or ""
    return (r.env_id, str(r.episode), r.task_id, f"{r.old_reward:g}", now, why[:80])


def _reason(verdict: dict[str, Any]) -> str:
    details = verdict.get("details")
    return str(details.get("reason", "")) if isinstance(details, dict) else ""


def _line(r: Regraded) -> dict[str, Any]:
    return {
        "env_id": r.env_id,
        "episode": r.episode,
        "task_id": r.task_id,
        "changed": r.changed,
        "old_reward": r.old_reward,
        "new_reward": r.new_reward,
        "old_verdict": r.old_verdict,
        "new_verdict": r.new_verdict,
        "error": r.error,
    }
