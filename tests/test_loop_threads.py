"""LoopThreads: the episode pool's threads for blocking calls, in place of
run_in_executor."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from taskgym.parallel.loop_threads import LoopThreads


def test_results_and_errors_come_back_from_other_threads() -> None:
    threads = LoopThreads(2)

    def fail() -> None:
        raise ValueError("from the thread")

    def stop() -> None:
        raise StopIteration  # a future refuses it as is

    async def main() -> None:
        loop_thread = threading.get_ident()
        assert await threads.run(threading.get_ident) != loop_thread
        assert await threads.run(lambda: 41 + 1) == 42
        with pytest.raises(ValueError, match="from the thread"):
            await threads.run(fail)
        with pytest.raises(RuntimeError, match="StopIteration"):
            await asyncio.wait_for(threads.run(stop), 10)

    asyncio.run(main())
    threads.shutdown()


def test_up_to_size_calls_run_at_once_and_no_more_threads_start() -> None:
    size = 4
    threads = LoopThreads(size)
    together = threading.Barrier(size, timeout=10)
    running, most = [0], [0]
    lock = threading.Lock()

    def call() -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return threading.get_ident()

    async def main() -> None:
        # The first `size` calls must all be running at once to pass the barrier.
        await asyncio.gather(*(threads.run(together.wait) for _ in range(size)))
        idents = await asyncio.gather(*(threads.run(call) for _ in range(40)))
        assert len(set(idents)) <= size

    asyncio.run(main())
    assert most[0] <= size
    assert len(threads._threads) == size
    threads.shutdown()
    assert not any(t.is_alive() for t in threads._threads)


def test_a_cancelled_caller_leaves_the_threads_working() -> None:
    threads = LoopThreads(1)
    started, release = threading.Event(), threading.Event()
    skipped = []

    def slow() -> str:
        started.set()
        release.wait(10)
        return "slow"

    async def main() -> None:
        first = asyncio.ensure_future(threads.run(slow))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        queued = asyncio.ensure_future(threads.run(lambda: skipped.append(1)))
        await asyncio.sleep(0)
        first.cancel()
        queued.cancel()  # before its call started: the call is skipped
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await first
        assert await threads.run(lambda: "still here") == "still here"

    asyncio.run(main())
    assert skipped == []
    threads.shutdown()


def test_a_result_for_a_closed_loop_does_not_kill_the_thread() -> None:
    threads = LoopThreads(1)
    release = threading.Event()

    async def leave_early() -> None:
        task = asyncio.ensure_future(threads.run(lambda: release.wait(10)))
        await asyncio.sleep(0.05)
        task.cancel()

    asyncio.run(leave_early())  # its loop is closed while the call still runs
    release.set()

    async def again() -> str:
        return await asyncio.wait_for(threads.run(lambda: "served"), 10)

    assert asyncio.run(again()) == "served"
    threads.shutdown()


def test_shutdown_runs_what_is_queued_and_refuses_more() -> None:
    threads = LoopThreads(1)
    done: list[int] = []

    async def main() -> None:
        calls = [asyncio.ensure_future(threads.run(lambda i=i: done.append(i))) for i in range(5)]
        await asyncio.sleep(0)  # queue them all
        await asyncio.gather(*calls)

    asyncio.run(main())
    threads.shutdown()
    assert done == [0, 1, 2, 3, 4]

    async def late() -> None:
        await asyncio.wait_for(threads.run(lambda: None), 10)

    with pytest.raises(RuntimeError, match="shut down"):
        asyncio.run(late())


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least one"):
        LoopThreads(0)
