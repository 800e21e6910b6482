"""The ``taskgym`` command: list, run and validate the registered envs, build the docker
sandbox's images, report on a run file, write a new task's skeleton, say what works on
this machine.

One module a command, each adding its parser (``add_parser``) and doing its work
(``command``); :mod:`taskgym.cli.shared` holds what several share. The library never
prints; this package is where output to a terminal lives.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import NoReturn

from taskgym.cli import (
    doctor,
    images,
    list_envs,
    new_task,
    regrade,
    report,
    run,
    serve,
    validate,
)
from taskgym.errors import TaskgymError

__all__ = ["main"]

# In the order ``taskgym --help`` lists them.
_COMMANDS = (list_envs, run, validate, images, report, regrade, new_task, doctor, serve)


def main(argv: Sequence[str] | None = None) -> int:
    import taskgym  # noqa: F401, PLC0415 - registers every env

    parser = _parser()
    args = _parse(parser, argv)
    try:
        with _deprecations_as_notes():
            result: int = args.command(args)
    except TaskgymError as e:
        print(f"taskgym: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        if e.filename is None:  # not a file the user named: a failure of taskgym's
            raise
        print(f"taskgym: error: {e.strerror}: {e.filename}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("taskgym: interrupted", file=sys.stderr)
        return 130
    return result


class _Parser(argparse.ArgumentParser):
    """argparse's parser with a usage error as one line (argparse prints the whole usage
    first), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; env ids may come after options too (``validate A --set k=v B``),
    where argparse would refuse them."""
    args, extra = parser.parse_known_args(argv)
    if extra and hasattr(args, "env_ids") and not any(e.startswith("-") for e in extra):
        args.env_ids.extend(extra)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


@contextlib.contextmanager
def _deprecations_as_notes() -> Iterator[None]:
    """taskgym's DeprecationWarnings (an option's old name, say) shown as one line each:
    Python hides them outside ``__main__``."""

    def note(message: Warning | str, *_: object, **__: object) -> None:
        print(f"taskgym: deprecated: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.filterwarnings("default", category=DeprecationWarning, module=r"taskgym\.")
        warnings.showwarning = note
        yield


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="taskgym", description="Gymnasium envs with machine-checked rewards.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND", parser_class=_Parser)
    for command in _COMMANDS:
        command.add_parser(sub)
    return parser
