"""``taskgym images build``: build the docker sandbox's images, offline by default
(no registry needed: a debootstrap base, then the Dockerfiles FROM it)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taskgym.cli.shared import Subcommands


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser("images", help="build the docker sandbox's images (no registry needed)")
    p.add_argument("action", choices=["build"])
    p.add_argument(
        "--base",
        default=None,
        help="build FROM this image instead of the offline debootstrap base "
        "(for example python:3.11-slim, where a registry is reachable)",
    )
    p.add_argument("--force", action="store_true", help="rebuild images that exist")
    p.set_defaults(command=command)


def command(args: argparse.Namespace) -> int:
    from taskgym.sandboxes import images  # noqa: PLC0415 - only this command needs it

    base = args.base
    if base is None:
        print(f"base image {images.BASE_IMAGE} (debootstrap, then docker import) ...")
        base = images.build_base_image(force=args.force)
    for name in sorted(p.name for p in images.IMAGES_DIR.iterdir() if (p / "Dockerfile").is_file()):
        tag = images.build_image(name, base=base, force=args.force)
        print(f"built {tag} FROM {base}")
    return 0
