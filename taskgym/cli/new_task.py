"""``taskgym new-task FAMILY Name``: write the skeleton of a task, its problems file and
its test (:mod:`taskgym.scaffold`), and say how to register it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taskgym.cli.shared import Subcommands


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser(
        "new-task", help="write the skeleton of a task, its problems file and its test"
    )
    p.add_argument("family", help="math, code, shell, or a family of your own")
    p.add_argument("name", help="the env's name in CamelCase, such as WordLadder")
    p.add_argument("--dir", type=Path, default=Path("."), help="where to write (.)")
    p.add_argument(
        "--package", help="the dotted package of --dir, if it is one (e.g. taskgym.envs.math)"
    )
    p.set_defaults(command=command)


def command(args: argparse.Namespace) -> int:
    from taskgym.scaffold import new_task  # noqa: PLC0415 - only when asked

    written = new_task(args.family, args.name, args.dir, package=args.package)
    for path in written:
        print(f"wrote {path}")
    module = f"{args.package}.{written[0].stem}" if args.package else written[0].stem
    print(
        "\nFill in the TODOs and keep the test green (python -m pytest "
        f"{written[2]}). To ship it in taskgym, add to taskgym/envs/{args.family}/__init__.py:"
        f'\n    register_task("{args.name}", "{module}:{args.name}Task", '
        f'family="{args.family}", description="...")'
    )
    return 0
