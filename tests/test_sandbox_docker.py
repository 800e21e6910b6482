"""Defences only the docker backend claims, and its life cycle, on a real Docker engine."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from taskgym import Limits, SandboxUnavailableError
from taskgym.sandboxes import make_sandbox
from taskgym.sandboxes.docker import DockerSandbox, docker_unavailable_reason, reap_orphans
from tests.conftest import missing, require_backend


@pytest.fixture
def box() -> Iterator[DockerSandbox]:
    require_backend("docker")
    sandbox = DockerSandbox()
    yield sandbox
    sandbox.close()


def _container_exists(name: str) -> bool:
    result = subprocess.run(
        ["docker", "inspect", "--type", "container", name], capture_output=True, check=False
    )
    return result.returncode == 0


def test_no_network_not_even_the_hosts_loopback(box: DockerSandbox) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        code = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3)"
        result = box.run(["python3", "-c", code])
        assert result.exit_code != 0
        assert box.run(["python3", "-c", "import socket; print(socket.if_nameindex())"]).out == (
            "[(1, 'lo')]\n"
        )
    finally:
        server.close()


def test_root_is_read_only_and_only_work_and_tmp_are_writable(box: DockerSandbox) -> None:
    assert box.run("touch /etc/x || touch /usr/x || touch /x").exit_code != 0
    assert box.run("touch /work/x /tmp/x").ok


def test_no_capabilities_and_no_privilege_gain(box: DockerSandbox) -> None:
    status = box.run(["grep", "-E", "^(CapEff|CapPrm|NoNewPrivs)", "/proc/self/status"]).out
    assert "CapEff:\t0000000000000000" in status and "NoNewPrivs:\t1" in status


def test_work_has_a_disk_and_file_quota() -> None:
    require_backend("docker")
    with DockerSandbox(
        disk_bytes=4 * 1024 * 1024, max_files=300, limits=Limits(file_bytes=10**9)
    ) as box:
        filled = box.run("head -c 20000000 /dev/zero > big; echo status=$?")
        assert "status=0" not in filled.out
        box.run("rm -f big")
        many = box.run("i=0; while touch f$i 2>/dev/null; do i=$((i+1)); done; echo $i", timeout=30)
        assert int(many.out) < 300


def test_tmp_is_size_limited() -> None:
    require_backend("docker")
    with DockerSandbox(tmp_bytes=2 * 1024 * 1024, limits=Limits(file_bytes=10**9)) as box:
        assert "status=0" not in box.run("head -c 9000000 /dev/zero > /tmp/f; echo status=$?").out


def test_containers_cannot_see_or_signal_each_other(box: DockerSandbox) -> None:
    with DockerSandbox() as other:
        assert other.uid != box.uid
        other.write_file("secret.txt", "other's")
        assert "other's" not in box.run("find / -name secret.txt -exec cat {} + 2>/dev/null").out


def test_the_container_goes_when_its_owner_is_killed() -> None:
    require_backend("docker")
    script = textwrap.dedent(
        """
        import time
        from taskgym.sandboxes.docker import DockerSandbox
        box = DockerSandbox()
        print(box.name, flush=True)
        time.sleep(600)
        """
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    name = owner.stdout.readline().strip()
    assert _container_exists(name)
    owner.kill()  # SIGKILL: no close(), no atexit
    owner.wait()
    owner.stdout.close()
    deadline = time.monotonic() + 30
    while _container_exists(name) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _container_exists(name)
    reap_orphans()  # and its volume is reaped
    volume = subprocess.run(["docker", "volume", "inspect", name], capture_output=True, check=False)
    assert volume.returncode != 0


def test_the_reaper_removes_containers_of_dead_owners_only(box: DockerSandbox) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    name = f"taskgym-orphan-{os.getpid()}"
    subprocess.run(
        [
            "docker", "run", "-d", "--name", name, "--label", "taskgym.sandbox=1",
            "--label", f"taskgym.owner={socket.gethostname()}:{dead.pid}",
            "--network", "none", box.image, "sleep", "600",
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    assert reap_orphans() >= 1
    assert not _container_exists(name)
    assert _container_exists(box.name)  # its owner (this process) lives


def test_files_round_trip_with_the_sandboxs_owner(box: DockerSandbox) -> None:
    box.write_file("deep/dir/f.txt", "data", mode=0o600)
    assert box.run("stat -c '%u %a' deep/dir/f.txt; cat deep/dir/f.txt").out == (
        f"{box.uid} 600\ndata"
    )
    box.run("echo edited > deep/dir/f.txt")
    assert box.read_file("deep/dir/f.txt") == b"edited\n"


def test_a_missing_image_is_unavailable_with_the_fix() -> None:
    require_backend("docker")
    reason = docker_unavailable_reason("taskgym/no-such-image:0")
    assert reason is not None and "taskgym images build" in reason
    with pytest.raises(SandboxUnavailableError, match="taskgym images build"):
        make_sandbox("docker", image="taskgym/no-such-image:0")


def test_gvisor_runtime_runs_the_sandbox_under_its_own_kernel() -> None:
    require_backend("docker")
    runtimes = subprocess.run(
        ["docker", "info", "--format", "{{json .Runtimes}}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    if "runsc" not in runtimes:
        missing("runsc", "gVisor's runsc is not registered with the Docker engine")
    with DockerSandbox(runtime="runsc") as box:
        assert "gVisor" in box.run("dmesg").out
        box.write_file("in.txt", "through gVisor")
        assert box.run(["cat", "in.txt"]).out == "through gVisor"
        with box.shell() as sh:
            assert sh.run("sleep 30", timeout=0.5).timed_out
            assert sh.run("echo alive").output == "alive\n"


def test_an_unknown_runtime_is_a_clear_error() -> None:
    from taskgym import SandboxError

    require_backend("docker")
    with pytest.raises(SandboxError, match="did not start"):
        DockerSandbox(runtime="no-such-runtime")
