"""``taskgym list``: the registered envs, with their family and description."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from taskgym.cli.shared import add_import, import_requested, print_table
from taskgym.errors import UnknownNameError
from taskgym.registry import env_info, registered_ids

if TYPE_CHECKING:
    from taskgym.cli.shared import Subcommands


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser("list", help="list the registered envs")
    p.add_argument("--family", help="only envs of this family (math, code, shell, ...)")
    add_import(p)
    p.set_defaults(command=command)


def command(args: argparse.Namespace) -> int:
    import_requested(args)
    if args.family is not None and not registered_ids(args.family):
        families = sorted({env_info(e).family for e in registered_ids()})
        raise UnknownNameError("family", args.family, families)
    rows = []
    for env_id in registered_ids(args.family):
        info = env_info(env_id)
        needs = f" (needs --set {', '.join(info.requires)}=...)" if info.requires else ""
        rows.append((env_id, info.family, info.description + needs))
    print_table(("env id", "family", "description"), rows)
    return 0
