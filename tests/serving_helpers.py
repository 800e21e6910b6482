"""A real ``taskgym serve`` in a process of its own, for the serving tests, and what they
look at from outside it (its sandboxes' processes, mounts)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

import gymnasium as gym

import taskgym  # noqa: F401 - registers the envs

STARTUP_LIMIT = 60.0  # generous: the machine is shared


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """A running server: its process, URL and log."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: str) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read())

    def sessions(self) -> int:
        return int(self.get("/envs")["sessions"])

    def stop(self, sig: int = signal.SIGTERM, limit: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=limit)


@contextlib.contextmanager
def serving(
    env_ids: Sequence[str], *options: str, log_dir: str = "/tmp", tmpdir: str | None = None
) -> Iterator[Served]:
    """``taskgym serve ENV_IDS OPTIONS`` on a free port until the block ends (SIGTERM);
    with ``tmpdir``, its sandboxes' work directories (and their mounts) are made there."""
    port = free_port()
    log = os.path.join(log_dir, f"taskgym-serve-{port}.log")
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "taskgym", "serve", *env_ids, "--port", str(port), *options],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "TMPDIR": tmpdir} if tmpdir else None,
        )
    served = Served(process, port, log)
    try:
        _wait_healthy(served)
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def healthy(url: str) -> bool:
    """Whether the server at ``url`` answers ``/health``."""
    try:
        with urllib.request.urlopen(url + "/health", timeout=5):
            return True
    except OSError:
        return False


def _wait_healthy(served: Served) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            with open(served.log) as f:
                raise RuntimeError(f"taskgym serve exited: {f.read()[-2000:]}")
        if healthy(served.url):
            return
        time.sleep(0.1)
    raise RuntimeError(f"taskgym serve did not answer in {STARTUP_LIMIT} s")


def reference(env_id: str, seed: int) -> tuple[str, ...]:
    """The reference actions of ``env_id``'s problem for ``seed``, from a local env (what
    the client is to send; the server never sends a solution)."""
    env = gym.make(env_id)
    try:
        env.reset(seed=seed)
        return tuple(env.unwrapped.problem.solution)  # type: ignore[attr-defined]
    finally:
        env.close()


def processes_matching(text: str) -> list[int]:
    """Pids whose command line holds ``text`` (the sandboxes' processes, from outside)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError), open(f"/proc/{entry}/cmdline", "rb") as f:
            if text.encode() in f.read().replace(b"\0", b" "):
                found.append(int(entry))
    return found


def wait_until(predicate: Any, limit: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def mounts_under(path: str) -> list[str]:
    """The mounts at or below ``path``."""
    with open("/proc/self/mountinfo") as f:
        return [line for line in f.read().splitlines() if f" {path}" in line]
