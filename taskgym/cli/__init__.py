"""The ``taskgym`` command: list, run and validate the registered envs, build the docker
sandbox's images, report on a run file, write a new task's skeleton.

One module a command, each adding its parser (``add_parser``) and doing its work
(``command``); :mod:`taskgym.cli.shared` holds what several share. The library never
prints; this package is where output to a terminal lives.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from taskgym.cli import images, list_envs, new_task, report, run, serve, validate
from taskgym.errors import TaskgymError

__all__ = ["main"]

# In the order ``taskgym --help`` lists them.
_COMMANDS = (list_envs, run, validate, images, report, new_task, serve)


def main(argv: Sequence[str] | None = None) -> int:
    import taskgym  # noqa: F401, PLC0415 - registers every env

    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.command(args)
    except TaskgymError as e:
        print(f"taskgym: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("taskgym: interrupted", file=sys.stderr)
        return 130
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskgym", description="Gymnasium envs with machine-checked rewards."
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(sub)
    return parser
