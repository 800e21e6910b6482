"""The per-sandbox cgroup's mechanics where they can be tried on this machine: putting a
process into a v2 cgroup through the shell (this machine's v2 hierarchy offers no memory
controller, so sandboxes use v1 here), killing all it holds, reusing emptied ones."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time

import pytest

from taskgym.sandboxes import cgroup


def test_a_v2_cgroup_holds_and_kills_what_it_started() -> None:
    mount = cgroup._mounts().get("cgroup2")
    if mount is None:
        pytest.skip("no cgroup v2 hierarchy mounted")
    try:
        path = cgroup._make_dir(mount, "test")
    except cgroup.CgroupUnavailable as e:
        pytest.skip(str(e))
    group = cgroup.SandboxCgroup(2, [path], 1 << 30, None)
    proc = group.spawn(
        lambda argv: subprocess.Popen(argv, start_new_session=True),
        ["sh", "-c", "setsid sleep 61.5 & sleep 61.5"],
    )
    try:
        deadline = time.monotonic() + 5
        while len(group.members()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.pid in group.members() and len(group.members()) == 3
        assert group.kill_all() and group.members() == []
    finally:
        proc.wait(timeout=10)
        group.remove()
    assert not os.path.exists(path)


def test_an_emptied_cgroup_is_reused_with_the_new_sandboxs_caps() -> None:
    try:
        first = cgroup.create(512 << 20, 100)
    except cgroup.CgroupUnavailable as e:
        pytest.skip(str(e))
    proc = first.spawn(subprocess.Popen, ["sleep", "60.25"])
    assert first.kill_all()
    assert proc.wait(timeout=10) == -9  # reaped: it counts against pids no more
    first.release()
    second = cgroup.create(256 << 20, 50)
    try:
        if second is not first:
            pytest.skip("the emptied cgroup was still draining (unreaped tasks)")
        assert second.memory_bytes == 256 << 20 and second.pids == 50
        limit = "memory.limit_in_bytes" if second.version == 1 else "memory.max"
        with open(os.path.join(second.dirs[0], limit)) as f:
            assert int(f.read()) == 256 << 20
    finally:
        second.remove()


def test_commands_started_while_the_sandbox_closes_die_with_it() -> None:
    """Starts and close race: a daemon born after the cgroup was emptied would live on
    in the next sandbox that reuses the cgroup."""
    from taskgym import SandboxClosedError
    from taskgym.sandboxes import make_sandbox
    from tests.test_sandbox_attacks import still_running_after

    box = make_sandbox("local")

    def start_daemons() -> None:
        with contextlib.suppress(SandboxClosedError):
            for _ in range(200):
                box.run(["sh", "-c", "setsid sleep 59.31 </dev/null >/dev/null 2>&1 & true"])

    threads = [threading.Thread(target=start_daemons) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    box.close()
    for thread in threads:
        thread.join(timeout=30)
    assert still_running_after("sleep 59.31") == []
    with make_sandbox("local") as after:  # a reused cgroup holds nothing of the last one
        group = getattr(after, "_cgroup", None)
        assert group is None or group.members() == []
