"""``taskgym serve`` against OpenEnv's own server, in one run on this machine.

Three measures, each against a baseline of the same run:

1. throughput: calls (a reset then 9 steps, each call one WebSocket round trip, from
   32 sessions at once through OpenEnv's ``GenericEnvClient``) of the no-op taskgym env
   (bench/tasks.py) served by ``taskgym serve``, against the same env written with
   OpenEnv's API and served by ``openenv-core``'s reference app
   (bench/openenv_reference.py), in interleaved rounds: the calls a second, and the
   calls a second of the server's own CPU time (its capacity: what it serves with a
   core to itself, read from /proc; the calls a second of a 2-core machine also hold
   the client's share of the cores and whatever else runs); goal: at least OpenEnv's
   throughput (capacity ratio >= 1);
2. concurrent idle sessions: 1,000 sessions opened and reset on each server, then held;
   goal: all 1,000 held by ``taskgym serve`` on this 2-core machine;
3. the overhead of a remote step: ``taskgym/Remote-v0`` against the same env made
   locally (``gymnasium.make``), per call (reset or step), for the no-op env and for
   ArithmeticEasy-v0; goal: within 2 ms.

Run from a checkout: ``python -m bench.serving``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

import gymnasium as gym

import taskgym
from bench.ratios import interleaved_rounds, median_ratio

# The no-op task (bench/tasks.py) as a taskgym env, which `taskgym serve` takes; the
# server's process registers it with the same line.
_REGISTER = (
    "taskgym.register_task('BenchNoop', 'bench.tasks:NoopTask', family='bench', "
    "description='does nothing')"
)
NOOP_ID = taskgym.register_task(
    "BenchNoop", "bench.tasks:NoopTask", family="bench", description="does nothing"
)
ARITHMETIC = "taskgym/ArithmeticEasy-v0"
STEPS = 9
SESSIONS = 32
SECONDS = 3.0
ROUNDS = 3
IDLE_SESSIONS = 1000


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _server(command: list[str], port: int) -> Iterator[tuple[str, int]]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {' '.join(command)}")
            time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=5):
            return True
    except OSError:
        return False


def taskgym_server() -> contextlib.AbstractContextManager[tuple[str, int]]:
    """``taskgym serve`` of the no-op env (registered by bench.tasks) and Arithmetic."""
    port = _port()
    argv = ["serve", NOOP_ID, ARITHMETIC, "--port", str(port), "--max-sessions", "4096"]
    program = (
        f"import taskgym; {_REGISTER}; from taskgym.cli import main; "
        f"raise SystemExit(main({argv!r}))"
    )
    return _server([sys.executable, "-c", program], port)


def openenv_server() -> contextlib.AbstractContextManager[tuple[str, int]]:
    port = _port()
    command = [sys.executable, "-m", "uvicorn", "bench.openenv_reference:app"]
    return _server([*command, "--port", str(port), "--log-level", "warning"], port)


def _cpu_seconds(pid: int) -> float:
    """The user and system CPU time of process ``pid`` so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _throughput_round(url: str, pid: int, capacity: list[float]) -> float:
    """Calls a second from the client's side; the calls a second of the server's CPU
    time are appended to ``capacity``."""
    cpu = _cpu_seconds(pid)
    rate, calls = asyncio.run(_steps_a_second(url))
    capacity.append(calls / max(_cpu_seconds(pid) - cpu, 1e-9))
    return rate


async def _steps_a_second(url: str) -> tuple[float, int]:
    from openenv import GenericEnvClient

    deadline = time.perf_counter() + SECONDS
    counts = []

    async def session(seed: int) -> None:
        done = 0
        async with GenericEnvClient(base_url=url) as env:
            while time.perf_counter() < deadline:
                await env.reset(seed=seed)
                for _ in range(STEPS):
                    await env.step({"text": "x"})
                done += 1 + STEPS
        counts.append(done)

    start = time.perf_counter()
    await asyncio.gather(*(session(s) for s in range(SESSIONS)))
    return sum(counts) / (time.perf_counter() - start), sum(counts)


async def _hold(url: str, sessions: int, ours: bool) -> tuple[int, str]:
    """How many of ``sessions`` were opened and reset (all at once, then held)."""
    from openenv import GenericEnvClient

    clients = [GenericEnvClient(base_url=url, connect_timeout_s=60) for _ in range(sessions)]
    gate = asyncio.Semaphore(100)  # opening rate, not how many are held

    async def open_one(client: Any, seed: int) -> bool:
        async with gate:
            try:
                await client.reset(seed=seed, **({"env_id": NOOP_ID} if ours else {}))
            except Exception:
                return False
            return True

    opened = await asyncio.gather(*(open_one(c, s) for s, c in enumerate(clients)))
    await asyncio.sleep(1.0)  # held idle
    stepped = 0
    for client, ok in zip(clients, opened, strict=True):
        if ok:
            with contextlib.suppress(Exception):
                await client.step({"text": "x"})
                stepped += 1
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return stepped, f"{sum(opened)} opened, {stepped} stepped after holding"


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _overhead(url: str, env_id: str) -> tuple[float, float]:
    """Seconds per call (reset or step) of the local env and of the remote one."""
    local = gym.make(env_id)
    remote = gym.make("taskgym/Remote-v0", url=url, env_id=env_id)
    episodes = 100
    steps = 1 if env_id == ARITHMETIC else STEPS

    def per_call(env: gym.Env[str, str]) -> float:
        start = time.perf_counter()
        for seed in range(episodes):
            env.reset(seed=seed)
            for _ in range(steps):
                env.step("<answer>1</answer>")
        return (time.perf_counter() - start) / ((1 + steps) * episodes)

    try:
        per_call(remote)  # warm up
        samples = interleaved_rounds(
            5, {"local": lambda: per_call(local), "remote": lambda: per_call(remote)}
        )
    finally:
        local.close()
        remote.close()
    return statistics.median(samples["local"]), statistics.median(samples["remote"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serving", description=__doc__)
    parser.add_argument("--idle-sessions", type=int, default=IDLE_SESSIONS)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="of the throughput")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with taskgym_server() as (ours, our_pid), openenv_server() as (theirs, their_pid):
        capacity: dict[str, list[float]] = {"openenv": [], "taskgym": []}
        rates = interleaved_rounds(
            args.rounds,
            {
                "openenv": lambda: _throughput_round(theirs, their_pid, capacity["openenv"]),
                "taskgym": lambda: _throughput_round(ours, our_pid, capacity["taskgym"]),
            },
        )
        results["throughput"] = {
            "openenv_steps_per_s": statistics.median(rates["openenv"]),
            "taskgym_steps_per_s": statistics.median(rates["taskgym"]),
            "ratio": median_ratio(rates["taskgym"], rates["openenv"]),
            "rounds": {name: [round(r) for r in rates[name]] for name in rates},
            "openenv_calls_per_cpu_s": statistics.median(capacity["openenv"]),
            "taskgym_calls_per_cpu_s": statistics.median(capacity["taskgym"]),
            "capacity_ratio": median_ratio(capacity["taskgym"], capacity["openenv"]),
            "capacity_rounds": {name: [round(r) for r in capacity[name]] for name in capacity},
        }
        for name, url, pid in (("openenv", theirs, their_pid), ("taskgym", ours, our_pid)):
            before = _rss_mib(pid)
            held, note = asyncio.run(_hold(url, args.idle_sessions, name == "taskgym"))
            results[f"idle_{name}"] = {
                "held": held,
                "note": note,
                "rss_mib_before": round(before, 1),
                "rss_mib_after": round(_rss_mib(pid), 1),
            }
        for env_id in (NOOP_ID, ARITHMETIC):
            local, remote = _overhead(ours, env_id)
            results[f"remote_call {env_id}"] = {
                "local_ms": local * 1e3,
                "remote_ms": remote * 1e3,
                "overhead_ms": (remote - local) * 1e3,
            }
    _print(results, args.idle_sessions)
    return 0


def _print(results: dict[str, Any], idle_sessions: int) -> None:
    t = results["throughput"]
    print(f"serving  ({os.cpu_count()} cores; the no-op env: taskgym's, and OpenEnv's API)")
    print(f"  throughput, {SESSIONS} sessions (medians; ratios: median of each round's ratio)")
    print(f"    {'':<26} {'calls/s':>9} {'calls/s of its CPU':>19}")
    print(
        f"    {'openenv reference server':<26} {t['openenv_steps_per_s']:>9.0f} "
        f"{t['openenv_calls_per_cpu_s']:>19.0f}"
    )
    print(
        f"    {'taskgym serve':<26} {t['taskgym_steps_per_s']:>9.0f} "
        f"{t['taskgym_calls_per_cpu_s']:>19.0f}"
    )
    print(f"    {'ratio':<26} {t['ratio']:>9.2f} {t['capacity_ratio']:>19.2f}")
    print(f"    each round, calls/s: {t['rounds']}")
    print(f"    each round, calls/s of the server's CPU: {t['capacity_rounds']}")
    met = t["capacity_ratio"] >= 1
    print(f"    goal: taskgym's capacity >= openenv's: {'met' if met else 'NOT met'}")
    for name in ("openenv", "taskgym"):
        idle = results[f"idle_{name}"]
        print(
            f"  idle sessions held, {name}: {idle['held']}/{idle_sessions} ({idle['note']}); "
            f"server RSS {idle['rss_mib_before']} -> {idle['rss_mib_after']} MiB"
        )
    held = results["idle_taskgym"]["held"]
    print(
        f"    goal: taskgym holds {idle_sessions}: {'met' if held >= idle_sessions else 'NOT met'}"
    )
    for env_id in (NOOP_ID, ARITHMETIC):
        r = results[f"remote_call {env_id}"]
        print(
            f"  a call (reset or step) of {env_id}: local {r['local_ms']:.3f} ms, remote "
            f"{r['remote_ms']:.3f} ms, overhead {r['overhead_ms']:.3f} ms: goal <= 2 ms "
            f"{'met' if r['overhead_ms'] <= 2 else 'NOT met'}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    raise SystemExit(main())
