"""Warm sandbox pools: reuse, reset, replacement, back-pressure, threads."""

from __future__ import annotations

import threading
import time

import pytest

from taskgym import PoolTimeoutError, SandboxClosedError, SandboxError
from taskgym.sandboxes.pool import SandboxPool
from tests.conftest import REAL_BACKENDS, require_backend


@pytest.mark.parametrize("backend", REAL_BACKENDS)
def test_a_returned_sandbox_is_reused_clean(backend: str) -> None:
    require_backend(backend)
    with SandboxPool(backend, size=1) as pool:
        with pool.lease() as box:
            box.write_file("left-behind.txt", "x")
            box.run("mkdir -p d/e && touch d/e/f")
            session = box.shell()
            session.run("cd /tmp")
            first = box
        with pool.lease() as box:
            assert box is first
            assert box.run(["ls", "-A"]).out == ""
            assert session.closed
        assert pool.stats.reused == 2 and pool.stats.created == 1


def test_a_sandbox_returned_broken_is_replaced() -> None:
    with SandboxPool("local", size=1) as pool:
        leased: list[object] = []

        def failing_episode() -> None:
            with pool.lease() as box:
                leased.append(box)
                raise RuntimeError("the episode failed")

        with pytest.raises(RuntimeError):
            failing_episode()
        first = leased[0]
        assert first.closed  # type: ignore[attr-defined]
        with pool.lease() as box:
            assert box is not first and box.run(["true"]).ok
        assert pool.stats.replaced == 1


def test_old_sandboxes_are_replaced_on_return() -> None:
    with SandboxPool("local", size=1, max_age=0.0) as pool:
        with pool.lease() as box:
            first = box
        assert first.closed and pool.stats.replaced == 1


def test_idle_sandboxes_are_health_checked_and_replaced_when_dead() -> None:
    with SandboxPool("local", size=1, check_after_idle=0.0) as pool:
        with pool.lease() as box:
            first = box
        first.close()  # dies while idle in the pool
        with pool.lease() as box:
            assert box is not first and box.run(["true"]).ok


def test_back_pressure_waits_then_times_out() -> None:
    with SandboxPool("local", size=1) as pool:
        held = pool.acquire()
        start = time.monotonic()
        with pytest.raises(PoolTimeoutError, match="make the pool larger"):
            pool.acquire(timeout=0.2)
        assert time.monotonic() - start >= 0.2
        threading.Timer(0.2, pool.release, args=(held,)).start()
        again = pool.acquire(timeout=10)
        assert again is held and pool.stats.waits == 1
        pool.release(again)


def test_many_threads_share_the_pool_without_sharing_a_sandbox() -> None:
    in_use: set[int] = set()
    clashes: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            with pool.lease(timeout=30) as box:
                with lock:
                    if id(box) in in_use:
                        clashes.append(id(box))
                    in_use.add(id(box))
                box.write_file("x", "y")
                with lock:
                    in_use.discard(id(box))

    with SandboxPool("local", size=3) as pool:
        threads = [threading.Thread(target=worker) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert clashes == [] and pool.stats.created == 3


def test_closing_the_pool_closes_ready_and_later_returned_sandboxes() -> None:
    pool = SandboxPool("local", size=2)
    held = pool.acquire()
    pool.close()
    with pytest.raises(SandboxClosedError):
        pool.acquire()
    pool.release(held)
    assert held.closed


def test_foreign_sandboxes_and_bad_sizes_are_refused() -> None:
    from taskgym import make_sandbox

    with (
        SandboxPool("fake", size=1) as pool,
        make_sandbox("fake") as stranger,
        pytest.raises(SandboxError, match="not leased from this pool"),
    ):
        pool.release(stranger)
    with pytest.raises(ValueError, match="size >= 1"):
        SandboxPool("local", size=0)


@pytest.mark.parametrize("backend", REAL_BACKENDS)
def test_reset_stops_long_lived_processes_such_as_a_zygote(backend: str) -> None:
    from taskgym.sandboxes.zygote import Zygote
    from tests.test_sandbox_attacks import describe_processes, still_running_after

    require_backend(backend)
    with SandboxPool(backend, size=1) as pool:
        with pool.lease() as box:
            zygote = Zygote(box)
            box.start_process(["sleep", "34.5"])
            assert zygote.run("print(1)").execution.out == "1\n"
        survivors = still_running_after("sleep 34.5")
        assert survivors == [], describe_processes(survivors)
        with pytest.raises(SandboxClosedError, match="reset or closed"):
            zygote.run("print(1)")  # stopped with the lease, not restarted in a new one
