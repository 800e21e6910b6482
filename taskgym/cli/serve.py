"""``taskgym serve ENV_ID ...``: the envs over OpenEnv's HTTP/WebSocket protocol
(:mod:`taskgym.serving.server`), until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from taskgym.cli.shared import add_env_selection, make_kwargs, positive, selected
from taskgym.errors import ConfigError

if TYPE_CHECKING:
    from taskgym.cli.shared import Subcommands


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser(
        "serve",
        help="serve envs over OpenEnv's protocol (one env and sandbox a WebSocket session)",
        description="Serve envs to any OpenEnv client (TRL, verifiers, OpenEnv's EnvClient, "
        "taskgym/Remote-v0). The first env is played when a reset names no env_id. "
        'Needs the openenv extra: pip install "taskgym[openenv]".',
    )
    add_env_selection(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    p.add_argument(
        "--max-sessions",
        type=positive,
        default=64,
        help="sessions open at once (64); one more is refused with CAPACITY_REACHED",
    )
    p.add_argument(
        "--idle-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="close a session (and its sandbox) idle this long (600; 0: never)",
    )
    p.add_argument(
        "--max-message-bytes",
        type=positive,
        default=None,
        help="close a connection that sends a larger message (4 MiB)",
    )
    p.add_argument("--log-level", default="warning", help="uvicorn's log level (warning)")
    p.set_defaults(command=command)


def command(args: argparse.Namespace) -> int:
    from taskgym.serving.server import (  # noqa: PLC0415 - needs the openenv extra
        DEFAULT_MAX_MESSAGE_BYTES,
        ServerOptions,
        serve,
    )

    if not args.env_ids:
        raise ConfigError("name the envs to serve: taskgym serve ENV_ID [ENV_ID ...]")
    envs = {env_id: make_kwargs(args, env_id) for env_id in selected(args)}
    options = ServerOptions(
        max_sessions=args.max_sessions,
        idle_timeout=args.idle_timeout or None,
        max_message_bytes=args.max_message_bytes or DEFAULT_MAX_MESSAGE_BYTES,
    )
    print(
        f"taskgym serve: {', '.join(envs)} on ws://{args.host}:{args.port}/ws "
        f"(max {options.max_sessions} sessions)",
        file=sys.stderr,
        flush=True,
    )
    serve(envs, host=args.host, port=args.port, options=options, log_level=args.log_level)
    return 0
