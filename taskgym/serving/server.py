"""``taskgym serve``: taskgym's envs over OpenEnv's HTTP/WebSocket protocol, on
``openenv-core``'s own server (``HTTPEnvServer``), run by uvicorn.

Every OpenEnv client (OpenEnv's ``EnvClient``, TRL, verifiers' OpenEnv taskset...) plays
an episode on one WebSocket (``/ws``): ``reset`` (seed, task_id, env_id), ``step`` (the
agent's text and tool calls), ``state``, ``close``. Each connection is a session with its
own env and sandbox (:class:`~taskgym.serving.environment.TaskgymEnvironment`). What
this module adds to OpenEnv's server:

- one app for one env or several (a reset names its ``env_id``), with ``/envs`` listing
  them and ``/schema``'s action listing each env's tools under ``x-tools``;
- a session limit (``max_sessions``: a connection past it is answered with OpenEnv's
  ``CAPACITY_REACHED`` error, which says what to do, then closed with code 1013; OpenEnv
  sends its own before the client has spoken, and a client that sends a reset first
  sees only the closed connection) and an idle limit
  (``idle_timeout``: OpenEnv's reaper closes the session, so its sandbox); a step under
  way counts as activity, so a long command is not taken for idleness;
- a cap on a message's size (``max_message_bytes``: a larger one closes the connection
  with WebSocket code 1009, and the session's sandbox with it);
- taskgym's errors over plain HTTP as JSON that says what to do, and every session
  closed when the server stops (SIGTERM or SIGINT), so no sandbox outlives it; what a
  server killed outright left (work directories, their mounts) the next one removes as
  it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from taskgym.errors import ConfigError, TaskgymError
from taskgym.serving.environment import ServedEnvs, TaskgymEnvironment
from taskgym.serving.models import TaskgymObservation, action_class

__all__ = ["DEFAULT_MAX_MESSAGE_BYTES", "ServerOptions", "make_app", "serve"]

DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""Above the envs' 1 MiB action limit (``max_action_chars``) with room for JSON escapes."""

# models.py has said what to install if openenv-core is missing; these come with it.
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from openenv.core.env_server.http_server import HTTPEnvServer  # noqa: E402
from openenv.core.env_server.types import ConcurrencyConfig  # noqa: E402


class ServerOptions:
    """How a server runs: its session limit, idle limit and message cap."""

    def __init__(
        self,
        *,
        max_sessions: int = 64,
        idle_timeout: float | None = 600.0,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        if max_sessions < 1:
            raise ConfigError(f"max_sessions must be >= 1, got {max_sessions}")
        if idle_timeout is not None and idle_timeout <= 0:
            raise ConfigError(f"idle_timeout must be > 0 seconds or None, got {idle_timeout}")
        if max_message_bytes < 1024:
            raise ConfigError(f"max_message_bytes must be >= 1024, got {max_message_bytes}")
        self.max_sessions = max_sessions
        self.idle_timeout = idle_timeout
        self.max_message_bytes = max_message_bytes


class _SessionServer(HTTPEnvServer):
    """OpenEnv's server, whose idle reaper never takes a session while its env is busy
    (a command that outlasts the idle limit is not idleness): while a session's env
    works in its thread, its last activity is the future, so the reaper's
    ``now - last_activity > limit`` cannot hold; when the work ends, it is now."""

    async def _create_session(self) -> tuple[str, Any]:
        session_id, env = await super()._create_session()
        if isinstance(env, TaskgymEnvironment):
            env.bind_activity(functools.partial(self._mark_busy, session_id))
        return session_id, env

    def _mark_busy(self, session_id: str, busy: bool) -> None:
        info = self._session_info.get(session_id)
        if info is not None:
            info.last_activity_at = math.inf if busy else time.time()


class _RefuseWhenFull:
    """ASGI middleware: a WebSocket session past the limit is accepted, its first message
    answered with the ``CAPACITY_REACHED`` error in OpenEnv's format, and closed (1013,
    try again later), so that a client's first call raises with the reason. (And the
    error OpenEnv raises closing a vanished client's socket is not logged as a crash.)"""

    def __init__(self, app: Any, server: HTTPEnvServer, limit: int) -> None:
        self.app, self.server, self.limit = app, server, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        if scope["path"] != "/ws" or self.server.active_sessions < self.limit:
            # OpenEnv closes the socket of a client that has gone, which raises: the
            # session is over and closed all the same, so nothing is logged for it.
            with contextlib.suppress(WebSocketDisconnect):
                await self.app(scope, receive, send)
            return
        socket = WebSocket(scope, receive, send)
        await socket.accept()
        with contextlib.suppress(Exception):  # the client may never speak, or leave
            await asyncio.wait_for(socket.receive(), timeout=10)
            message = (
                f"the server is at capacity: {self.limit} of {self.limit} sessions are "
                "open; close one, retry later, or start another server (taskgym serve "
                "--max-sessions sets the limit)"
            )
            await socket.send_json(
                {
                    "type": "error",
                    "data": {
                        "message": message,
                        "code": "CAPACITY_REACHED",
                        "active_sessions": self.limit,
                        "max_sessions": self.limit,
                    },
                }
            )
        with contextlib.suppress(Exception):
            await socket.close(code=1013)


def make_app(
    envs: Mapping[str, Mapping[str, Any]] | Sequence[str],
    options: ServerOptions | None = None,
) -> Any:
    """The ASGI app serving ``envs`` (env ids, or env id -> ``gymnasium.make`` options).
    Each env is made once here (no sandbox), so a bad id or option fails now."""
    options = options or ServerOptions()
    served = ServedEnvs(dict(envs) if isinstance(envs, Mapping) else {e: {} for e in envs})
    tools = served.tools()
    server = _SessionServer(
        functools.partial(TaskgymEnvironment, served),
        action_class(tools),
        TaskgymObservation,
        concurrency_config=ConcurrencyConfig(
            max_concurrent_envs=options.max_sessions, session_timeout=options.idle_timeout
        ),
    )
    app = FastAPI(title="taskgym serve", description=f"taskgym envs: {', '.join(served.envs)}")
    server.register_routes(app)
    app.add_middleware(_RefuseWhenFull, server=server, limit=options.max_sessions)

    @app.get("/envs", tags=["Environment Info"], summary="the envs served and their tools")
    async def list_envs() -> dict[str, Any]:
        return {
            "default": served.default,
            "envs": {env_id: {"tools": tools[env_id]} for env_id in served.envs},
            "sessions": server.active_sessions,
            "max_sessions": options.max_sessions,
        }

    async def taskgym_error(request: Request, exc: Exception) -> JSONResponse:
        message = str(exc)
        if request.url.path == "/step":  # OpenEnv's HTTP calls each get a fresh env
            message += "; over HTTP each call has a new env: play episodes on the WebSocket /ws"
        return JSONResponse(
            status_code=409, content={"error": type(exc).__name__, "message": message}
        )

    app.add_exception_handler(TaskgymError, taskgym_error)

    async def close_sessions() -> None:
        await asyncio.get_running_loop().run_in_executor(None, served.close_all)

    app.router.on_shutdown.append(close_sessions)
    app.state.taskgym = served
    app.state.openenv_server = server
    return app


def serve(
    envs: Mapping[str, Mapping[str, Any]] | Sequence[str],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    options: ServerOptions | None = None,
    log_level: str = "warning",
) -> None:
    """Run the server until SIGINT or SIGTERM; then every session (and so every sandbox)
    is closed before it returns."""
    import uvicorn  # noqa: PLC0415

    from taskgym.sandboxes.local import reap_orphaned_workdirs  # noqa: PLC0415

    # A server killed before it could close its sandboxes (SIGKILL, a crash) left their
    # work directories, and as root their quotas' mounts: the next one removes them.
    reap_orphaned_workdirs()
    options = options or ServerOptions()
    app = make_app(envs, options)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        ws_max_size=options.max_message_bytes,
        # Messages are small JSON on a trainer's network: compressing each costs both
        # sides more CPU a call than it saves (docs/performance.md, serving).
        ws_per_message_deflate=False,
        # Sessions hold sandboxes: do not wait on a client that never closes.
        timeout_graceful_shutdown=10,
        backlog=4096,
    )
    uvicorn.Server(config).run()
