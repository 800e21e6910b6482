"""``taskgym serve`` under faults, from outside its process: a client that vanishes
mid-episode, a session left idle, a server full, a server killed, malformed and
oversized messages. Each looks at what the sandboxes left: their processes (a ``sleep``
started in the episode's shell), mounts and containers."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_backend, require_module

require_module("openenv", "openenv")

import websockets  # noqa: E402
from openenv import GenericEnvClient  # noqa: E402

from tests.serving_helpers import (  # noqa: E402
    Served,
    mounts_under,
    processes_matching,
    serving,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SHELL = "taskgym/Shell-v0"


def ws_url(served: Served) -> str:
    return f"ws://127.0.0.1:{served.port}/ws"


async def send(ws: Any, message: Any) -> dict[str, Any]:
    await ws.send(message if isinstance(message, str | bytes) else json.dumps(message))
    answer: dict[str, Any] = json.loads(await ws.recv())
    return answer


async def start_sleeper(ws: Any, marker: int) -> None:
    """Reset the shell env and leave ``sleep MARKER`` running in the episode's shell."""
    reset = await send(ws, {"type": "reset", "data": {"seed": 1}})
    assert reset["type"] == "observation", reset
    step = await send(ws, {"type": "step", "data": {"text": f"sleep {marker} &"}})
    assert step["type"] == "observation", step
    # the shell answers as soon as the job is started, maybe before it has exec'd
    running = lambda: bool(processes_matching(f"sleep {marker}"))  # noqa: E731
    assert await asyncio.to_thread(wait_until, running, 10)


def test_a_client_that_vanishes_mid_episode_frees_its_sandbox_at_once() -> None:
    require_backend("bwrap")
    with serving([SHELL]) as served:

        async def run() -> None:
            ws = await websockets.connect(ws_url(served))
            await start_sleeper(ws, 4301)
            assert processes_matching("sleep 4301")
            ws.transport.abort()  # no close frame: the client is just gone

        asyncio.run(run())
        assert wait_until(lambda: not processes_matching("sleep 4301"), limit=10)
        assert served.sessions() == 0


def test_a_session_idle_past_the_limit_is_closed_and_says_so() -> None:
    require_backend("bwrap")
    with serving([SHELL], "--idle-timeout", "1") as served:

        async def run() -> dict[str, Any]:
            async with websockets.connect(ws_url(served)) as ws:
                await start_sleeper(ws, 4302)
                # OpenEnv's reaper looks every 5 s at least.
                assert await asyncio.to_thread(
                    wait_until, lambda: not processes_matching("sleep 4302"), 30
                )
                return await send(ws, {"type": "step", "data": {"text": "ls"}})

        answer = asyncio.run(run())
        assert answer["type"] == "error"
        assert "session is closed" in answer["data"]["message"]
        assert served.sessions() == 0


def test_a_command_that_outlasts_the_idle_limit_is_not_taken_for_idleness() -> None:
    require_backend("bwrap")
    with serving([SHELL], "--idle-timeout", "1") as served:

        async def run() -> dict[str, Any]:
            async with websockets.connect(ws_url(served)) as ws:
                await send(ws, {"type": "reset", "data": {"seed": 1}})
                # OpenEnv's reaper looks every 5 s: it looks at least once meanwhile
                return await send(ws, {"type": "step", "data": {"text": "sleep 7; echo woke"}})

        answer = asyncio.run(run())
        assert answer["type"] == "observation", answer
        assert "woke" in answer["data"]["observation"]["text"]


def test_a_full_server_refuses_a_new_session_with_a_clear_error() -> None:
    with serving(["taskgym/Arithmetic-v0"], "--max-sessions", "2") as served:

        async def run() -> str:
            first = GenericEnvClient(base_url=served.url)
            second = GenericEnvClient(base_url=served.url)
            await first.reset(seed=1)
            await second.reset(seed=2)
            try:
                async with GenericEnvClient(base_url=served.url) as third:
                    await third.reset(seed=3)
            except RuntimeError as e:
                refused = str(e)
            else:
                raise AssertionError("a third session was accepted")
            await first.close()
            async with GenericEnvClient(base_url=served.url) as fourth:  # a slot again
                assert not (await fourth.reset(seed=4)).done
            await second.close()
            return refused

        refused = asyncio.run(run())
        assert "CAPACITY_REACHED" in refused and "2" in refused


@pytest.fixture
def sandbox_tmp() -> Iterator[Path]:
    """A directory for a server's sandboxes (TMPDIR), which their users can reach
    (pytest's own tmp_path is under a directory only root may enter)."""
    path = Path(tempfile.mkdtemp(prefix="taskgym-serve-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_server_leaves_no_sandbox_process_or_mount(
    sig: int, sandbox_tmp: Path
) -> None:
    require_backend("bwrap")
    tmp_path = sandbox_tmp
    marker = 4310 + int(sig)
    with serving([SHELL, "taskgym/CodeTests-v0"], tmpdir=str(tmp_path)) as served:

        async def run() -> int:
            clients = [await websockets.connect(ws_url(served)) for _ in range(3)]
            for ws in clients:
                await start_sleeper(ws, marker)
            running = lambda: len(processes_matching(f"sleep {marker}")) == 3  # noqa: E731
            assert await asyncio.to_thread(wait_until, running, 10)
            assert mounts_under(str(tmp_path))  # the sandboxes' own (as root)
            code = await asyncio.to_thread(served.stop, sig)
            for ws in clients:
                ws.transport.abort()
            return code

        assert asyncio.run(run()) in (0, -sig, 130)  # uvicorn exits by the signal it caught
    assert wait_until(lambda: not processes_matching(f"sleep {marker}"), limit=10)
    assert mounts_under(str(tmp_path)) == []
    assert [p.name for p in tmp_path.iterdir()] == []


def test_a_killed_server_leaves_no_process_and_the_next_one_removes_its_mounts(
    sandbox_tmp: Path,
) -> None:
    """SIGKILL: nothing of the server runs to clean up. Its sandboxes' processes die with
    it; the work directory and its quota's mount stay until the next server starts."""
    require_backend("bwrap")
    with serving([SHELL], tmpdir=str(sandbox_tmp)) as served:

        async def run() -> None:
            ws = await websockets.connect(ws_url(served))
            await start_sleeper(ws, 4340)
            await asyncio.to_thread(served.stop, signal.SIGKILL)
            ws.transport.abort()

        asyncio.run(run())
    assert wait_until(lambda: not processes_matching("sleep 4340"), limit=10)
    left = [p.name for p in sandbox_tmp.iterdir()]
    assert left  # SIGKILL let nothing run
    with serving([SHELL], tmpdir=str(sandbox_tmp)):
        assert mounts_under(str(sandbox_tmp)) == []
        assert not set(left) & {p.name for p in sandbox_tmp.iterdir()}


def _containers(label: str) -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={label}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killing_a_server_of_docker_sandboxes_leaves_no_container(sig: int) -> None:
    require_backend("docker")
    with serving([SHELL], "--sandbox", "docker") as served:
        label = f"taskgym.owner={__import__('socket').gethostname()}:{served.process.pid}"

        async def run() -> None:
            ws = await websockets.connect(ws_url(served))
            await start_sleeper(ws, 4330)
            assert len(_containers(label)) == 1
            await asyncio.to_thread(served.stop, sig)
            ws.transport.abort()

        asyncio.run(run())
        assert wait_until(lambda: not _containers(label), limit=30)


def test_malformed_and_oversized_messages_get_errors_and_the_server_goes_on() -> None:
    with serving(["taskgym/Arithmetic-v0"], "--max-message-bytes", "100000") as served:
        url = ws_url(served)

        async def answers() -> list[dict[str, Any]]:
            found = []
            async with websockets.connect(url) as ws:
                await send(ws, {"type": "reset", "data": {"seed": 1}})
                for bad in (
                    "not json",
                    {"type": "teleport"},
                    {"type": "step", "data": {"text": ["x"]}},
                    {"type": "step", "data": {"text": "x", "extra": 1}},
                    {"type": "step", "data": {"text": "x", "tool_calls": "all"}},
                    {"type": "reset", "data": {"seed": "three"}},
                ):
                    found.append(await send(ws, bad))
                # the session is still usable after all that
                found.append(await send(ws, {"type": "step", "data": {"text": "1"}}))
            return found

        found = asyncio.run(answers())
        codes = [a["data"]["code"] for a in found[:-1]]
        assert codes == [
            "INVALID_JSON",
            "UNKNOWN_TYPE",
            *["VALIDATION_ERROR"] * 3,
            "EXECUTION_ERROR",
        ]
        assert found[-1]["type"] == "observation" and found[-1]["data"]["done"]

        async def session_ending(message: str | bytes) -> dict[str, Any]:
            async with websockets.connect(url) as ws:
                await send(ws, {"type": "reset", "data": {"seed": 1}})
                return await send(ws, message)

        # JSON nested past the parser's depth, and a binary frame: an error, and the
        # session (with its env) is closed
        for message in ("[" * 50_000, b"\x00\x01binary"):
            answer = asyncio.run(session_ending(message))
            assert answer["type"] == "error" and answer["data"]["code"] == "SESSION_ERROR"

        async def oversized() -> int | None:
            async with websockets.connect(url, max_size=None) as ws:
                await send(ws, {"type": "reset", "data": {"seed": 1}})
                await ws.send(json.dumps({"type": "step", "data": {"text": "9" * 200_000}}))
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await ws.recv()
                return closed.value.rcvd.code if closed.value.rcvd else None

        assert asyncio.run(oversized()) == 1009  # message too big
        assert wait_until(lambda: served.sessions() == 0, limit=10)
        assert served.get("/health")["status"] == "healthy"
        assert served.process.poll() is None


def test_an_action_past_the_env_limit_is_a_zero_verdict_not_an_error() -> None:
    with serving(["taskgym/Arithmetic-v0"]) as served:

        async def run() -> Any:
            async with GenericEnvClient(base_url=served.url) as env:
                await env.reset(seed=1)
                return await env.step({"text": "1" * (1024 * 1024 + 1)})

        result = asyncio.run(run())
        assert result.done and result.reward == 0.0
        assert result.observation["verdict"]["parsed"] is False
