"""``taskgym validate``: the oracle earns the top reward and the null agent none, on
every env chosen (the check a new task must pass)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from taskgym.agents import make_agent
from taskgym.cli.progress import Progress
from taskgym.cli.shared import (
    add_env_selection,
    make_kwargs,
    mean,
    positive,
    print_table,
    selected,
    unless_unavailable,
)
from taskgym.runner import run_episodes

if TYPE_CHECKING:
    from taskgym.cli.shared import Subcommands
    from taskgym.run_file import EpisodeRecord


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser(
        "validate", help="check that the oracle earns the top reward and the null agent none"
    )
    add_env_selection(p)
    p.add_argument("--seeds", type=positive, default=5, help="episodes per env and agent (5)")
    p.add_argument(
        "--every-task",
        action="store_true",
        help="one episode per problem, for envs with a fixed set of them (task files, shell "
        "task directories); --seeds for the others",
    )
    p.set_defaults(command=command)


def command(args: argparse.Namespace) -> int:
    env_ids = selected(args)
    # Two agents an env; with --every-task the problems are counted as the envs open.
    total = None if args.every_task else 2 * args.seeds * len(env_ids)
    with Progress(total) as progress:
        rows, reasons = _validate(args, env_ids, progress)
    print_table(("env id", "episodes", "oracle reward", "null reward", "result"), rows)
    if reasons:
        failed = sum(row[-1] != "ok" for row in rows)
        print(f"\n{failed} env(s) failed: the oracle must earn 1.0 and the null agent 0.0")
        print(*reasons, sep="\n")
        return 1
    return 0


def _validate(
    args: argparse.Namespace, env_ids: list[str], progress: Progress
) -> tuple[list[tuple[str, ...]], list[str]]:
    """A table row an env validated, and why each problem that failed did."""
    rows: list[tuple[str, ...]] = []
    reasons: list[str] = []
    for env_id in env_ids:
        kwargs = make_kwargs(args, env_id)
        plan = {"episodes": args.seeds, "make_kwargs": kwargs, "every_task": args.every_task}
        played = run_episodes(env_id, make_agent("oracle"), **plan)
        oracle = list(progress.count(unless_unavailable(args, env_id, played), env_id))
        if not oracle:
            progress.drop(2 * args.seeds)  # skipped: what it would have played
            continue
        null = list(progress.count(run_episodes(env_id, make_agent("null"), **plan), env_id))
        wrong = _why_wrong(oracle, null)
        reasons += [f"  {env_id} {task_id}: {why}" for task_id, why in wrong.items()]
        rows.append(
            (
                env_id,
                str(len(oracle)),
                f"{mean(r.reward for r in oracle):.3f}",
                f"{mean(r.reward for r in null):.3f}",
                "ok" if not wrong else "FAIL: " + ", ".join(list(wrong)[:5]),
            )
        )
    return rows, reasons


def _why_wrong(oracle: list[EpisodeRecord], null: list[EpisodeRecord]) -> dict[str, str]:
    """Each problem the oracle did not solve or the null agent did, by id in order,
    with what went wrong."""
    wrong: dict[str, str] = {}
    for record in oracle:
        if record.reward == 1.0 and record.verdict.get("solved"):
            continue
        if not any(record.actions):
            wrong[record.task_id] = "no reference solution: the oracle had nothing to play"
        else:
            wrong[record.task_id] = f"the oracle earned {record.reward:g}{_said(record)}"
    for record in null:
        if record.reward > 0.0 or record.verdict.get("solved"):
            wrong.setdefault(record.task_id, f"the null agent earned {record.reward:g}")
    return dict(sorted(wrong.items()))


def _said(record: EpisodeRecord) -> str:
    """What the verdict says went wrong, if it says (one line, cut short)."""
    details = record.verdict.get("details") or {}
    said = details.get("failure") or details.get("error") or details.get("reason")
    return f" ({' '.join(str(said).split())[:160]})" if said else ""
