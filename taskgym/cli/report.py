"""``taskgym report A.jsonl [B.jsonl ...]``: run files as one self-contained HTML page
(:mod:`taskgym.report`: the runs side by side, per env and per task, pass@k, tokens
and cost, each episode's transcript), and a summary table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from taskgym.cli.shared import print_table
from taskgym.errors import ConfigError
from taskgym.run_file import load_run

if TYPE_CHECKING:
    from collections.abc import Sequence

    from taskgym.cli.shared import Subcommands
    from taskgym.report import Run


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser(
        "report",
        help="run files as a self-contained HTML page (several compared), and a summary table",
    )
    p.add_argument("run_files", type=Path, nargs="+", metavar="RUN.jsonl")
    p.add_argument(
        "--out",
        type=Path,
        help="the page to write (default: beside the first run file, RUN.html, or "
        "A-vs-B.html for several)",
    )
    p.add_argument(
        "--transcripts",
        type=_count,
        default=None,
        metavar="N",
        help="episodes a run whose transcripts the page holds (100; those of tasks where "
        "the runs differ first)",
    )
    p.set_defaults(command=command)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"a whole number >= 0, not {text!r}")
    return value


def command(args: argparse.Namespace) -> int:
    from taskgym.report import DEFAULT_TRANSCRIPTS, group_runs, render_html  # noqa: PLC0415

    paths: list[Path] = args.run_files
    twice = [str(p) for p in paths if paths.count(p) > 1]
    if twice:
        raise ConfigError(f"{twice[0]} is named twice; name each run file once")
    names = _names(paths)
    runs = group_runs({name: load_run(path) for name, path in zip(names, paths, strict=True)})
    out = args.out or default_out(paths)
    out.parent.mkdir(parents=True, exist_ok=True)  # as run --out does
    title = f"taskgym run{'s' if len(paths) > 1 else ''} {', '.join(names)}"
    transcripts = DEFAULT_TRANSCRIPTS if args.transcripts is None else args.transcripts
    out.write_text(render_html(runs, title=title, transcripts=transcripts), encoding="utf-8")
    _print_summary(runs)
    print(f"\nreport written to {out}")
    return 0


def _names(paths: Sequence[Path]) -> list[str]:
    """How the page names each file: its name, or its path as given where two files
    share a name."""
    names = [p.name for p in paths]
    return [str(p) if names.count(p.name) > 1 else p.name for p in paths]


def default_out(paths: Sequence[Path]) -> Path:
    """Beside the first run file: RUN.html for one, A-vs-B.html for several."""
    if len(paths) == 1:
        return paths[0].with_suffix(".html")
    return paths[0].with_name("-vs-".join(p.stem for p in paths)[:150] + ".html")


def _print_summary(runs: Sequence[Run]) -> None:
    from taskgym.report import summary_rows  # noqa: PLC0415

    several = len(runs) > 1
    rows = [
        (
            *((run.name,) if several else ()),
            r.env_id,
            str(r.episodes),
            f"{r.mean_reward:.3f}",
            f"{r.pass_rate:.1%}",
            f"{r.mean_turns:.2f}",
        )
        for run in runs
        for r in summary_rows(run.records)
    ]
    columns = ("env id", "episodes", "mean reward", "pass rate", "mean turns")
    print_table((*(("run",) if several else ()), *columns), rows)
