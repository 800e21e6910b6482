"""One cap on the memory and tasks of all of a sandbox's processes together.

rlimits bound each process: before the cgroups, one bwrap shell command took 6.3 GB of
the host's memory in processes that each stayed under ``Limits.memory_bytes``. Each
attack here starts many processes, each under that limit, that together go far past the
sandbox's cap; the kernel must kill inside the sandbox only, the host must be unharmed,
and the sandbox must still answer (or say cleanly that it is broken).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from taskgym import ConfigError, Limits, SandboxError
from taskgym.sandboxes import Sandbox, cgroup, make_sandbox
from tests.conftest import REAL_BACKENDS, require_backend

MiB = 1024 * 1024
CAP = 256 * MiB
CHILD_BYTES = 128 * MiB  # each child stays far under the per-process limit (1 GiB)
CHILDREN = 8  # 1 GiB together: four times the cap
# Each child fills its bytes (every page written), says so, and holds them a while.
HOG = f"""
import os, sys, time
for i in range({CHILDREN}):
    if os.fork() == 0:
        held = b"\\x01" * {CHILD_BYTES}
        print("held", i, flush=True)
        time.sleep(3)
        os._exit(0)
codes = [os.wait()[1] for _ in range({CHILDREN})]
print("killed", sum(os.WIFSIGNALED(c) and os.WTERMSIG(c) == 9 for c in codes), flush=True)
"""


# docker's /work, /tmp and /dev/shm are RAM inside its cap, which must exceed them
SMALL_RAM_FILES = {"docker": {"disk_bytes": 96 * MiB, "tmp_bytes": 32 * MiB}}


@pytest.fixture(params=REAL_BACKENDS)
def capped(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    require_backend(request.param)
    options = SMALL_RAM_FILES.get(request.param, {})
    with make_sandbox(request.param, memory_bytes=CAP, **options) as box:
        if box.memory_cap_bytes is None:
            pytest.fail(f"no memory cap here: {box.memory_cap_unavailable_reason}")
        yield box


def peak_bytes(box: Sandbox) -> int:
    """The most the sandbox's processes held at once, as its cgroup counted it."""
    group = getattr(box, "_cgroup", None)
    if group is not None:
        peak = group.peak_bytes()
        assert peak is not None
        return peak
    # docker: the container's own cgroup, seen from inside (v1 or v2)
    out = box.run(
        "cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes 2>/dev/null"
        " || cat /sys/fs/cgroup/memory.peak"
    ).out
    return int(out.split()[0])


def test_the_cap_is_set_on_the_whole_sandbox(capped: Sandbox) -> None:
    assert capped.memory_cap_bytes == CAP and capped.memory_cap_unavailable_reason is None
    group = getattr(capped, "_cgroup", None)
    if group is not None:
        limit_file = "memory.limit_in_bytes" if group.version == 1 else "memory.max"
        with open(os.path.join(group.dirs[0], limit_file)) as f:
            assert int(f.read()) == CAP
    else:
        limit = capped.run(
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null"
            " || cat /sys/fs/cgroup/memory.max"
        ).out
        assert int(limit) == CAP


@pytest.mark.slow
def test_many_processes_under_the_rlimit_cannot_pass_the_cap_from_a_command(
    capped: Sandbox,
) -> None:
    ballast = b"\x01" * (384 * MiB)  # taskgym is bigger than any process inside: never the victim
    result = capped.run(["python3", "-c", HOG], timeout=60)
    assert result.out.count("held") < CHILDREN or "killed 0" not in result.out, result
    assert peak_bytes(capped) <= CAP + 8 * MiB  # the kernel's accounting slack
    assert capped.run(["echo", "still here"]).out == "still here\n"
    assert len(ballast) == 384 * MiB


@pytest.mark.slow
def test_many_processes_under_the_rlimit_cannot_pass_the_cap_from_a_shell(
    capped: Sandbox,
) -> None:
    ballast = b"\x01" * (384 * MiB)
    shell = capped.shell(timeout=60)
    shell.run(f"cat > hog.py <<'EOF'\n{HOG}\nEOF")
    result = shell.run("python3 hog.py & python3 hog.py & wait")
    assert result.output.count("held") < 2 * CHILDREN, result.output
    assert peak_bytes(capped) <= CAP + 8 * MiB
    try:
        again = shell.run("echo still here").output
    except SandboxError:  # the shell itself was the victim and could not come back
        again = capped.run(["echo", "still here"]).out
    assert again.endswith("still here\n")
    assert len(ballast) == 384 * MiB


@pytest.mark.slow
def test_the_cap_holds_the_memory_of_files_in_ram(capped: Sandbox) -> None:
    """tmpfs pages (/dev/shm, /tmp, a tmpfs mounted in a namespace of its own where the
    host allows one) are charged to the sandbox that writes them, and a sandbox whose
    cap they fill is reset, not lost (docker: its server is the OOM killer's last
    choice, and its RAM files cannot fill the cap)."""
    fill = (
        "for d in /dev/shm /tmp .; do i=0; while [ $i -lt 20 ]; do "
        'head -c 33554432 /dev/zero > "$d/fill-$i" 2>/dev/null || break; i=$((i+1)); done; done; '
        "unshare -Urm sh -c 'mount -t tmpfs none /mnt && i=0 && while [ $i -lt 20 ]; do "
        "head -c 33554432 /dev/zero > /mnt/f$i || break; i=$((i+1)); done' 2>/dev/null; true"
    )
    capped.run(fill, timeout=60, limits=Limits(file_bytes=64 * MiB))
    assert peak_bytes(capped) <= CAP + 8 * MiB
    capped.reset()
    assert capped.run(["echo", "after reset"]).out == "after reset\n"


@pytest.mark.parametrize("backend", REAL_BACKENDS)
def test_a_fork_bomb_stops_at_the_sandboxs_task_cap(backend: str) -> None:
    require_backend(backend)
    bomb = (
        "import os, time\n"
        "n = 0\n"
        "for _ in range(300):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(20)\n"
        "        os._exit(0)\n"
        "    n += 1\n"
        "print(n)\n"
    )
    # A per-command process rlimit far above the cap: only the cap can stop the bomb.
    with make_sandbox(backend, pids=60, limits=Limits(processes=10_000)) as box:
        result = box.run(["python3", "-c", bomb], timeout=30)
        assert result.ok, result
        assert int(result.out) < 60
        assert box.run(["echo", "ok"]).out == "ok\n"


@pytest.mark.parametrize("backend", ["local", "bwrap"])
def test_without_a_cgroup_the_sandbox_runs_and_says_why(
    backend: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    require_backend(backend)
    monkeypatch.setattr(cgroup, "_mounts", dict)  # no hierarchy mounted anywhere
    monkeypatch.setattr(cgroup, "_take_idle", lambda: None)  # none kept from earlier tests
    from taskgym.sandboxes import local

    local._warn_once_uncapped.cache_clear()
    with caplog.at_level(logging.WARNING, "taskgym"), make_sandbox(backend) as box:
        assert box.memory_cap_bytes is None
        reason = box.memory_cap_unavailable_reason
        assert reason is not None and "no memory hierarchy" in reason
        assert box.run(["echo", "ok"]).out == "ok\n"
        assert box.shell().run("echo ok").output == "ok\n"
        box.reset()
    assert any("no memory cap" in r.getMessage() for r in caplog.records)


def test_docker_refuses_a_cap_its_ram_files_could_fill() -> None:
    require_backend("docker")
    with pytest.raises(ConfigError, match="disk_bytes"):
        make_sandbox("docker", memory_bytes=CAP)  # /work alone may hold 512 MiB


@pytest.mark.parametrize("backend", ["local", "bwrap"])
def test_the_default_cap_follows_the_largest_limit_a_command_is_given(backend: str) -> None:
    """A checker the task lets take 4 GiB must not be cut at twice the default's 1 GiB;
    a cap given explicitly stays."""
    require_backend(backend)
    big = Limits(memory_bytes=3 * 1024 * MiB)
    with make_sandbox(backend) as box:
        assert box.memory_cap_bytes == 2 * Limits().memory_bytes
        box.run(["true"], limits=big)
        assert box.memory_cap_bytes == 2 * big.memory_bytes
        box.run(["true"])
        assert box.memory_cap_bytes == 2 * big.memory_bytes
    with make_sandbox(backend, memory_bytes=CAP) as box:
        box.run(["true"], limits=big)
        assert box.memory_cap_bytes == CAP
