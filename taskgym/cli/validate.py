"""``taskgym validate``: the oracle earns the top reward and the null agent none, on
every env chosen (the check a new task must pass)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from taskgym.agents import make_agent
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
    rows, failures = [], 0
    for env_id in selected(args):
        kwargs = make_kwargs(args)
        plan = {"episodes": args.seeds, "make_kwargs": kwargs, "every_task": args.every_task}
        oracle = list(
            unless_unavailable(args, env_id, run_episodes(env_id, make_agent("oracle"), **plan))
        )
        if not oracle:
            continue
        null = list(run_episodes(env_id, make_agent("null"), **plan))
        wrong = sorted(
            {r.task_id for r in oracle if r.reward != 1.0 or not r.verdict.get("solved")}
            | {r.task_id for r in null if r.reward > 0.0 or r.verdict.get("solved")}
        )
        failures += bool(wrong)
        rows.append(
            (
                env_id,
                str(len(oracle)),
                f"{mean(r.reward for r in oracle):.3f}",
                f"{mean(r.reward for r in null):.3f}",
                "ok" if not wrong else "FAIL: " + ", ".join(wrong[:5]),
            )
        )
    print_table(("env id", "episodes", "oracle reward", "null reward", "result"), rows)
    if failures:
        print(f"\n{failures} env(s) failed: the oracle must earn 1.0 and the null agent 0.0")
        return 1
    return 0
