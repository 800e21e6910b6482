"""Attacks on every real sandbox backend (local, bwrap): each defence a backend claims
is tested by trying to break it, and the host and the next sandbox must be unharmed.

Defences only some backends claim (network, hidden host files, daemons, disk quota) are
in the backend's own test file."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

import pytest

from taskgym import ExecResult, Limits, Sandbox, SandboxClosedError, SandboxError, make_sandbox
from taskgym.sandboxes.local import LocalSandbox, _count_threads_of
from tests.conftest import REAL_BACKENDS, require_backend

PY = "/usr/bin/python3"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop needs root")


@pytest.fixture
def box(real_box: LocalSandbox) -> LocalSandbox:
    return real_box


def leaves_anything_behind(box: Sandbox) -> bool:
    """Whether a closed sandbox left its files (a host directory) or its container and
    volume behind."""
    if isinstance(box, LocalSandbox):
        return os.path.exists(box.workdir)
    name = getattr(box, "name", "")
    container = subprocess.run(
        ["docker", "inspect", "--type", "container", name], capture_output=True, check=False
    )
    volume = subprocess.run(["docker", "volume", "inspect", name], capture_output=True, check=False)
    return container.returncode == 0 or volume.returncode == 0


def still_running_after(marker: str, seconds: float = 5.0) -> list[int]:
    """processes_running(marker) once it is empty, or when ``seconds`` have passed:
    processes in another session (bwrap's) die a moment after their parent, later on a
    loaded machine."""
    deadline = time.monotonic() + seconds
    while (found := processes_running(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def processes_running(marker: str) -> list[int]:
    """Host pids of live (not zombie) processes whose command line contains ``marker``:
    works whatever pid namespace the process is in."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z" and "pytest" not in cmdline:
            found.append(int(entry))
    return found


def describe_processes(pids: list[int]) -> str:
    """Command line, state, parent and pids in every namespace of each process: what a
    failing "nothing survived" assertion should show."""
    lines = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")[:120]
            with open(f"/proc/{pid}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError as e:
            lines.append(f"{pid}: gone ({e.strerror})")
            continue
        keep = ("State", "PPid", "NSpid", "SigPnd", "ShdPnd", "SigBlk")
        status = ", ".join(f"{k}={fields.get(k, '?').strip()}" for k in keep)
        lines.append(f"{pid}: {cmdline!r} {status}")
    return "\n".join(lines)


def test_runs_argv_and_shell_strings_with_stdin_and_exit_codes(box: LocalSandbox) -> None:
    assert box.run(["echo", "hi"]) == ExecResult(exit_code=0, stdout=b"hi\n")
    assert box.run("cat; exit 3", stdin="piped").out == "piped"
    assert box.run("exit 3").exit_code == 3
    assert box.run("echo err >&2").err == "err\n"
    missing = box.run(["no-such-program-xyz"])
    assert missing.exit_code == 127
    assert "not found" in missing.err or "No such file" in missing.err


def test_large_stdin_and_binary_output_round_trip(box: LocalSandbox) -> None:
    data = bytes(range(256)) * 8192  # 2 MiB, every byte value
    result = box.run(["cat"], stdin=data, limits=Limits(output_bytes=4 * 1024 * 1024))
    assert result.stdout == data and result.ok


def test_time_out_kills_the_command_and_everything_it_started(box: LocalSandbox) -> None:
    start = time.monotonic()
    result = box.run("sleep 61.17 & sleep 60", timeout=0.5)
    assert result.timed_out and result.exit_code == -9
    assert time.monotonic() - start < 30
    time.sleep(0.1)
    assert processes_running("sleep 61.17") == []


def test_background_children_die_when_the_command_returns(box: LocalSandbox) -> None:
    result = box.run("(sleep 61.23 &) ; echo done")
    assert result.out == "done\n" and not result.timed_out
    time.sleep(0.1)
    assert processes_running("sleep 61.23") == []


def test_a_child_holding_the_pipes_open_does_not_hang_the_run(box: LocalSandbox) -> None:
    start = time.monotonic()
    result = box.run("sleep 60 & echo parent done", timeout=20)
    assert result.out == "parent done\n" and not result.timed_out
    assert time.monotonic() - start < 10


def test_huge_output_is_capped_and_marked(box: LocalSandbox) -> None:
    result = box.run(["yes"], timeout=1, limits=Limits(output_bytes=1000))
    assert len(result.stdout) == 1000 and result.stdout_truncated
    assert not box.run(["echo", "short"]).stdout_truncated


def test_environment_is_scrubbed(box: LocalSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKGYM_TEST_SECRET", "hunter2")
    env_dump = box.run(["env"]).out
    assert "hunter2" not in env_dump
    assert f"HOME={box.inside_workdir}" in env_dump
    assert box.run(["sh", "-c", "echo $EXTRA"], env={"EXTRA": "given"}).out == "given\n"


def test_commands_run_in_the_private_work_directory(box: LocalSandbox) -> None:
    assert box.run(["pwd"]).out.strip() == box.inside_workdir
    if hasattr(box, "workdir"):  # a directory on the host: only its owner may enter
        assert oct(os.stat(box.workdir).st_mode & 0o777) == "0o700"
    box.run("echo made-inside > f.txt")
    assert box.read_file("f.txt") == b"made-inside\n"


@needs_root
def test_as_root_commands_run_as_nobody_and_cannot_read_root_files(box: LocalSandbox) -> None:
    # nobody, or in docker a uid of the container's own
    assert box.run(["id", "-u"]).out.strip() == str(getattr(box, "uid", 65534))
    assert box.run("cat /root/.bashrc").exit_code != 0
    environ = box.run("cat /proc/1/environ")
    assert environ.exit_code != 0 or b"TASKGYM_TEST" not in environ.stdout


def test_commands_cannot_kill_the_host_process(box: LocalSandbox) -> None:
    result = box.run(["kill", "-9", str(os.getpid())])
    assert result.exit_code != 0
    assert box.run(["echo", "still here"]).out == "still here\n"


def test_memory_bomb_fails_inside_without_harming_the_host(box: LocalSandbox) -> None:
    result = box.run(
        [PY, "-c", "x = bytearray(2 * 1024**3)"], limits=Limits(memory_bytes=256 * 1024**2)
    )
    assert result.exit_code != 0 and "MemoryError" in result.err


def test_cpu_loop_is_stopped_by_the_cpu_limit(box: LocalSandbox) -> None:
    result = box.run([PY, "-c", "while True: pass"], limits=Limits(cpu_seconds=1, wall_seconds=30))
    # Killed by SIGXCPU (or SIGKILL at the hard limit): -N locally, 128+N from bwrap's init.
    assert result.exit_code in (-9, -24, 128 + 9, 128 + 24) and not result.timed_out


def test_file_size_limit_stops_disk_filling(box: LocalSandbox) -> None:
    result = box.run("head -c 10000000 /dev/zero > big.bin", limits=Limits(file_bytes=1024 * 1024))
    assert result.exit_code != 0
    assert int(box.run(["stat", "-c", "%s", "big.bin"]).out) <= 1024 * 1024


def test_fork_bomb_is_capped_by_the_process_limit(box: LocalSandbox) -> None:
    program = (
        "import os, time\n"
        "n = 0\n"
        "for _ in range(500):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(30)\n"
        "        os._exit(0)\n"
        "    n += 1\n"
        "print(n)\n"
    )
    # The limit is what the sandbox's user runs when the command starts, plus 20. Wait
    # until processes that earlier tests left dying (zombies that init reaps late) are
    # gone, or their exit during the bomb would hand it their share.
    _wait_until_the_users_processes_settle(box)
    result = box.run([PY, "-c", program], limits=Limits(processes=20), timeout=20)
    assert result.ok, result.err
    assert int(result.out) < 20
    # The children were killed with the command: the next command has its budget back.
    assert int(box.run([PY, "-c", program], limits=Limits(processes=20)).out) > 5


def _wait_until_the_users_processes_settle(box: Sandbox, seconds: float = 10.0) -> None:
    uid = getattr(box, "_uid", None)
    if uid is None:  # backends whose processes are counted in a namespace of their own
        return
    deadline = time.monotonic() + seconds
    last = _count_threads_of(uid)
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = _count_threads_of(uid)
        if now == last:
            return
        last = now


def test_files_round_trip_and_parents_are_created(box: LocalSandbox) -> None:
    box.write_file("a/b/c.txt", "content")
    assert box.run(["cat", "a/b/c.txt"]).out == "content"
    box.run("echo changed > a/b/c.txt")
    assert box.read_file("a/b/c.txt") == b"changed\n"


def test_paths_outside_the_work_directory_are_refused(box: LocalSandbox) -> None:
    for bad in ("/etc/passwd", "../x", "a/../../x", "", "a\x00b", "."):
        with pytest.raises(ValueError, match="sandbox path"):
            box.read_file(bad)
        with pytest.raises(ValueError, match="sandbox path"):
            box.write_file(bad, "x")


def test_symlinks_planted_by_a_command_are_never_followed(
    box: LocalSandbox, tmp_path: os.PathLike[str]
) -> None:
    host_file = os.path.join(tmp_path, "host.txt")
    with open(host_file, "w") as f:
        f.write("host secret")
    os.chmod(tmp_path, 0o755)
    os.chmod(host_file, 0o644)
    box.run(f"ln -s {host_file} leak; ln -s {tmp_path} dir; mkdir d; ln -s {host_file} d/leak")
    for path in ("leak", "d/leak"):  # the last component is a link: never followed
        with pytest.raises(PermissionError, match=r"symbolic link|not a regular file"):
            box.read_file(path)
    if box.backend == "docker":
        # Docker resolves a link in the middle of the path inside the container, where
        # the host's file does not exist: whatever happens, no secret comes out.
        with contextlib.suppress(OSError):
            assert b"host secret" not in box.read_file("dir/host.txt")
        with contextlib.suppress(OSError, SandboxError):
            box.write_file("dir/host.txt", "overwritten?")
    else:  # the work directory is on the host: a link anywhere in the path is refused
        with pytest.raises(PermissionError, match="symbolic link"):
            box.read_file("dir/host.txt")
        with pytest.raises(PermissionError):
            box.write_file("dir/host.txt", "overwritten?")
    box.write_file("leak", "overwritten?")
    with open(host_file) as f:
        assert f.read() == "host secret"
    assert box.read_file("leak") == b"overwritten?"  # the link itself was replaced


def test_hard_links_fifos_and_huge_files_are_not_read(box: LocalSandbox) -> None:
    box.run("echo x > a; ln a b; mkfifo pipe; head -c 2000 /dev/zero > big")
    if box.backend != "docker":  # in docker a hard link can only name the sandbox's own files
        with pytest.raises(PermissionError, match="hard links"):
            box.read_file("b")
    with pytest.raises(PermissionError, match="not a regular file"):
        box.read_file("pipe")  # would block forever if opened for a plain read
    with pytest.raises(OSError, match="larger than max_bytes"):
        box.read_file("big", max_bytes=1000)
    with pytest.raises(FileNotFoundError):
        box.read_file("missing")


@pytest.mark.parametrize("backend", REAL_BACKENDS)
def test_close_removes_everything_and_is_idempotent(backend: str) -> None:
    require_backend(backend)
    box = make_sandbox(backend)
    box.run("mkdir -p locked/inner && touch locked/inner/f && chmod 000 locked/inner locked")
    box.close()
    box.close()
    assert box.closed and not leaves_anything_behind(box)
    with pytest.raises(SandboxClosedError, match="closed"):
        box.run(["true"])
    with pytest.raises(SandboxClosedError):
        box.read_file("x")


@pytest.mark.parametrize("backend", REAL_BACKENDS)
def test_context_manager_closes(backend: str) -> None:
    require_backend(backend)
    with make_sandbox(backend) as box:
        box.run(["true"])
    assert not leaves_anything_behind(box)


def test_bad_commands_are_caller_errors(box: LocalSandbox) -> None:
    with pytest.raises(ValueError, match="non-empty list of str"):
        box.run([])
    with pytest.raises(ValueError, match="non-empty list of str"):
        box.run(["echo", 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="positive number"):
        Limits(wall_seconds=0)


def test_python_interpreter_used_by_tasks_is_reachable(box: LocalSandbox) -> None:
    result = box.run(["python3", "-I", "-c", "print(6*7)"])
    assert result.out == "42\n", (result, sys.executable)


def test_a_command_that_closes_its_output_early_still_exits_cleanly(box: LocalSandbox) -> None:
    """Killing at EOF would turn this clean exit into -9 (a bug seen with cat)."""
    result = box.run("exec >&- 2>&-; sleep 0.3; exit 4")
    assert result.exit_code == 4 and not result.timed_out


def test_a_command_that_closes_its_output_and_runs_on_times_out(box: LocalSandbox) -> None:
    result = box.run("exec >&- 2>&-; sleep 60", timeout=0.5)
    assert result.timed_out and result.exit_code == -9
