"""What several commands share: choosing the envs (``ENV_ID ...``, ``--sandbox``,
``--set``), skipping one that cannot run here, argument types, and the plain table
every command prints."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from taskgym.errors import DependencyNotInstalledError, SandboxUnavailableError
from taskgym.registry import registered_ids
from taskgym.runner import full_env_id
from taskgym.sandboxes import sandbox_names

if TYPE_CHECKING:
    from taskgym.run_file import EpisodeRecord

    Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]
    """What a command module adds its parser to."""


def add_env_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "env_ids",
        nargs="*",
        metavar="ENV_ID",
        help="default: every registered env that needs no option (see `taskgym list`)",
    )
    p.add_argument(
        "--sandbox", choices=sandbox_names(), help="sandbox backend (default: each env's own)"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        type=_option,
        help="an option for the envs, e.g. --set tasks=my_tasks.jsonl (a JSON value or text)",
    )


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"options are KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def selected(args: argparse.Namespace) -> list[str]:
    return [full_env_id(e) for e in args.env_ids] or registered_ids(self_contained=True)


def make_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    kwargs: dict[str, Any] = dict(args.set)
    if args.sandbox:
        kwargs["sandbox"] = args.sandbox
    if getattr(args, "reward", None) is not None:
        kwargs["reward"] = args.reward
    return kwargs


def unless_unavailable(
    args: argparse.Namespace, env_id: str, episodes: Iterator[EpisodeRecord]
) -> Iterator[EpisodeRecord]:
    """The episodes, or none with a note when the env's sandbox cannot run here (no
    bubblewrap, no pytest inside it...) or it needs an extra that is not installed, and
    the user did not name the env: one missing component does not stop a run of
    everything."""
    try:
        yield from episodes
    except (SandboxUnavailableError, DependencyNotInstalledError) as e:
        if args.env_ids:
            raise
        print(f"skipped {env_id}: {e}", file=sys.stderr)


def mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    for line in (header, ["-" * w for w in widths], *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
