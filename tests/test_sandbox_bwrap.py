"""Defences only the bwrap backend claims, each tested by an attack on real bubblewrap."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from taskgym import Limits
from taskgym.sandboxes.bwrap import BwrapSandbox
from tests.conftest import require_backend
from tests.test_sandbox_attacks import processes_running

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the tmpfs quota needs root")


@pytest.fixture
def box() -> Iterator[BwrapSandbox]:
    require_backend("bwrap")
    sandbox = BwrapSandbox()
    yield sandbox
    sandbox.close()


@pytest.fixture
def host_server() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server on the host's loopback that records what it receives."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(5)
    received: list[bytes] = []

    def serve() -> None:
        try:
            conn, _ = server.accept()
            received.append(conn.recv(100))
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    server.close()
    thread.join(timeout=10)


def _connect(port: int) -> str:
    return (
        "import socket\n"
        "s = socket.socket(); s.settimeout(3)\n"
        f"s.connect(('127.0.0.1', {port})); s.sendall(b'escaped'); print('connected')\n"
    )


def test_no_network_not_even_the_hosts_loopback(
    box: BwrapSandbox, host_server: tuple[int, list[bytes]]
) -> None:
    port, received = host_server
    result = box.run(["python3", "-c", _connect(port)])
    assert result.exit_code != 0 and "connected" not in result.out
    assert received == []


def test_network_is_given_only_when_asked(host_server: tuple[int, list[bytes]]) -> None:
    require_backend("bwrap")
    port, received = host_server
    with BwrapSandbox(network=True) as box:
        assert box.run(["python3", "-c", _connect(port)]).out == "connected\n"
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        time.sleep(0.01)
    assert received == [b"escaped"]


def test_host_files_outside_the_system_directories_do_not_exist_inside(
    box: BwrapSandbox,
) -> None:
    marker = f"/tmp/taskgym-host-secret-{os.getpid()}"
    with open(marker, "w") as f:
        f.write("secret")
    try:
        result = box.run(f"ls /; ls /tmp; cat {marker}; ls /root /home")
        assert "secret" not in result.out
        assert "taskgym-host-secret" not in result.out
        assert set(result.out.split()) <= {
            "bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp",
            "usr", "work",
        }  # fmt: skip
    finally:
        os.remove(marker)


def test_system_directories_are_read_only_and_tmp_is_private(box: BwrapSandbox) -> None:
    for path in ("/etc/taskgym-x", "/usr/taskgym-x", "/taskgym-x"):
        assert box.run(["touch", path]).exit_code != 0
        assert not os.path.exists(path)
    assert box.run("echo x > /tmp/note && cat /tmp/note").out == "x\n"
    assert box.run("cat /tmp/note").exit_code != 0  # each command gets a fresh /tmp


def test_other_sandboxes_are_invisible_and_unkillable(box: BwrapSandbox) -> None:
    with BwrapSandbox() as other:
        other.write_file("secret.txt", "other's data")
        found = box.run(f"cat {other.workdir}/secret.txt; find / -name secret.txt 2>/dev/null")
        assert "other's data" not in found.out and "secret.txt" not in found.out
        # Start a long command in the other sandbox, and try to kill it from this one.
        runner = threading.Thread(target=lambda: other.run("sleep 2.345", timeout=10))
        runner.start()
        time.sleep(0.3)
        victims = processes_running("sleep 2.345")
        assert victims
        assert box.run(["kill", "-9", *map(str, victims)]).exit_code != 0
        assert box.run("pkill -9 -x sleep; true").ok  # sees no sleep to kill
        assert processes_running("sleep 2.345") == victims
        runner.join()


def test_a_daemon_that_escapes_its_session_dies_with_the_command(box: BwrapSandbox) -> None:
    script = "setsid sh -c 'while true; do sleep 0.0731; done' </dev/null >/dev/null 2>&1 &"
    result = box.run(["sh", "-c", script + " echo started"])
    assert result.out == "started\n"
    time.sleep(0.3)
    assert processes_running("sleep 0.0731") == []


def test_pid_namespace_shows_only_the_sandbox(box: BwrapSandbox) -> None:
    pids = [p for p in box.run("ls /proc").out.split() if p.isdigit()]
    assert len(pids) < 10


def test_no_controlling_terminal_to_inject_keystrokes_into(box: BwrapSandbox) -> None:
    """CVE-2017-5226: without --new-session, TIOCSTI on the tty types into the parent."""
    result = box.run(["python3", "-c", "import os; os.open('/dev/tty', os.O_RDWR)"])
    assert result.exit_code != 0


def test_no_nested_user_namespaces(box: BwrapSandbox) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    assert box.run(["unshare", "--user", "true"]).exit_code != 0


def test_process_environment_of_the_sandbox_holds_no_host_secret(
    box: BwrapSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKGYM_HOST_SECRET", "hunter2")
    result = box.run("cat /proc/1/environ /proc/self/environ; env")
    assert "hunter2" not in result.out


@needs_root
def test_disk_filling_hits_the_quota_not_the_host() -> None:
    require_backend("bwrap")
    host_free = shutil.disk_usage("/tmp").free
    with BwrapSandbox(disk_bytes=8 * 1024 * 1024, limits=Limits(file_bytes=10**9)) as box:
        result = box.run("head -c 50000000 /dev/zero > big.bin; echo status=$?")
        assert "status=0" not in result.out
        assert os.path.getsize(os.path.join(box.workdir, "big.bin")) <= 8 * 1024 * 1024
    assert shutil.disk_usage("/tmp").free >= host_free - 4 * 1024 * 1024
    with BwrapSandbox() as next_box:  # the next sandbox is unharmed
        assert next_box.run("head -c 1000000 /dev/zero > f && wc -c < f").out.strip() == "1000000"


@needs_root
def test_a_million_small_files_hit_the_file_quota() -> None:
    require_backend("bwrap")
    program = (
        "import os\n"
        "n = 0\n"
        "try:\n"
        "    for n in range(1_000_000):\n"
        "        open(f'f{n}', 'w').close()\n"
        "except OSError as e:\n"
        "    print('stopped', n, e.errno)\n"
    )
    with BwrapSandbox(max_files=2000) as box:
        result = box.run(["python3", "-c", program], timeout=60)
        stopped, count, errno_ = result.out.split()
        assert stopped == "stopped" and int(count) < 2000 and int(errno_) == 28  # ENOSPC
        workdir = box.workdir
    assert not os.path.exists(workdir)


def test_private_tmp_is_size_limited() -> None:
    require_backend("bwrap")
    with BwrapSandbox(tmp_bytes=4 * 1024 * 1024, limits=Limits(file_bytes=10**9)) as box:
        result = box.run("head -c 20000000 /dev/zero > /tmp/fill; echo status=$?; du -k /tmp")
        assert "status=0" not in result.out
        assert int(result.out.split()[-2]) <= 4 * 1024


def test_a_grader_started_from_a_thread_outlives_the_thread(box: BwrapSandbox) -> None:
    # --die-with-parent is the parent *thread*'s death: a grader started from a pool's
    # worker thread was killed (SIGKILL) when the pool retired the thread, while its env
    # lived on in another thread ("the grader process was lost").
    from taskgym.sandboxes.zygote import zygote_for

    limits = Limits(wall_seconds=10)
    first: list[bytes] = []
    thread = threading.Thread(
        target=lambda: first.append(zygote_for(box).run("print(1)", limits=limits).execution.stdout)
    )
    thread.start()
    thread.join()
    time.sleep(0.3)  # a parent-death signal would have landed by now
    again = zygote_for(box).run("print(2)", limits=limits).execution
    assert first == [b"1\n"]
    assert (again.exit_code, again.stdout) == (0, b"2\n"), again.stderr
