"""``taskgym report RUN.jsonl``: a run file as a self-contained HTML page
(:mod:`taskgym.report`), and a summary table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from taskgym.cli.shared import print_table
from taskgym.run_file import load_run

if TYPE_CHECKING:
    from taskgym.cli.shared import Subcommands


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser(
        "report", help="a run file as a self-contained HTML page, and a summary table"
    )
    p.add_argument("run_file", type=Path, metavar="RUN.jsonl")
    p.add_argument("--out", type=Path, help="the page to write (default: RUN.html beside it)")
    p.set_defaults(command=command)


def command(args: argparse.Namespace) -> int:
    from taskgym.report import render_html, summary_rows  # noqa: PLC0415

    records = load_run(args.run_file)
    out = args.out or args.run_file.with_suffix(".html")
    out.parent.mkdir(parents=True, exist_ok=True)  # as run --out does
    out.write_text(render_html(records, title=f"taskgym run {args.run_file.name}"))
    rows = [
        (
            r.env_id,
            str(r.episodes),
            f"{r.mean_reward:.3f}",
            f"{r.pass_rate:.1%}",
            f"{r.mean_turns:.2f}",
        )
        for r in summary_rows(records)
    ]
    print_table(("env id", "episodes", "mean reward", "pass rate", "mean turns"), rows)
    print(f"\nreport written to {out}")
    return 0
