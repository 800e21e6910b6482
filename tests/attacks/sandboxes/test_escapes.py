"""Red-team attacks by a command inside a sandbox: leaving its cgroup, outliving close,
filling RAM-backed directories, mounting its own file systems, reaching other
sandboxes, and turning reset's clean-up against the host."""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from taskgym import Limits
from taskgym.sandboxes import Sandbox, make_sandbox
from taskgym.sandboxes.local import LocalSandbox
from tests.conftest import require_backend
from tests.test_sandbox_attacks import describe_processes, processes_running, still_running_after

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="a uid of the sandbox's own needs root")
MiB = 1024 * 1024

ESCAPE = r"""
for f in $(find /sys/fs/cgroup -name cgroup.procs -o -name tasks 2>/dev/null); do
  echo $$ 2>/dev/null > "$f" && echo "escaped into $f"
done
unshare -Urmc sh -c 'mount -t cgroup2 none /mnt && for f in $(find /mnt -name cgroup.procs); do
  echo $$ 2>/dev/null > "$f" && echo "escaped into $f"; done' 2>/dev/null
for f in $(find /sys/fs/cgroup -name memory.limit_in_bytes -o -name memory.max \
    -o -name memory.memsw.limit_in_bytes -o -name pids.max 2>/dev/null); do
  echo 9223372036854771712 2>/dev/null > "$f" && echo "raised $f"
done
echo -1000 2>/dev/null > /proc/self/oom_score_adj && echo "unkillable"
setsid sh -c "sleep $1" </dev/null >/dev/null 2>&1 &
echo tried
"""

LINGER = r"""
token="$1"
setsid sh -c 'while :; do sleep 0.05; done' "setsid-$token" </dev/null >/dev/null 2>&1 &
( ( sh -c 'sleep 1000' "double-fork-$token" </dev/null >/dev/null 2>&1 & ) & )
nohup sh -c 'sleep 1000' "nohup-$token" </dev/null >/dev/null 2>&1 &
unshare --user --pid --fork sh -c 'sleep 1000' "pid-namespace-$token" </dev/null >/dev/null 2>&1 &
setsid sh -c 'while :; do sh -c "sleep 1000" "storm-$0" & sleep 0.01; done' "$token" \
  </dev/null >/dev/null 2>&1 &
sleep 0.3
echo started
"""


def test_stop_processes_leaves_nothing_that_changes_files(real_box: Sandbox) -> None:
    """A checker stops the sandbox's processes, then reads what the agent left: a daemon
    that survived (the local backend's, with setsid) could rewrite the files meanwhile."""
    daemon = "while :; do echo daemon > answer.txt; sleep 0.02; done"
    real_box.run(["sh", "-c", f"setsid sh -c '{daemon}' </dev/null >/dev/null 2>&1 &"])
    time.sleep(0.2)
    real_box.stop_processes()
    real_box.write_file("answer.txt", "checker")
    time.sleep(0.5)
    assert real_box.read_file("answer.txt") == b"checker"


def _container_id(name: str) -> str:
    inspect = ["docker", "inspect", "--format", "{{.Id}}", name]
    return subprocess.run(inspect, capture_output=True, text=True, check=True).stdout.strip()


def _cgroups_of(pid: int) -> str:
    with open(f"/proc/{pid}/cgroup") as f:
        return f.read()


def test_a_command_cannot_leave_the_sandboxs_cgroup(real_box: Sandbox) -> None:
    marker = f"31.{secrets.randbelow(10**6):06d}"
    shell = real_box.shell(timeout=30)
    shell.run(f"cat > /tmp/escape.sh <<'EOF'\n{ESCAPE}\nEOF")
    result = shell.run(f"sh /tmp/escape.sh {marker}")
    for sign in ("escaped", "raised", "unkillable"):
        assert sign not in result.output, result.output
    assert result.output.endswith("tried\n")
    time.sleep(0.2)
    victims = processes_running(f"sleep {marker}")
    assert victims
    group = getattr(real_box, "_cgroup", None)
    for pid in victims:
        cgroups = _cgroups_of(pid)
        if group is not None:  # every hierarchy the sandbox's cgroup is in
            for folder in group.dirs:
                assert os.path.basename(folder) in cgroups, cgroups
        else:  # docker: the container's
            assert _container_id(real_box.name) in cgroups  # type: ignore[attr-defined]
    real_box.close()
    assert still_running_after(f"sleep {marker}") == []


def test_no_process_outlives_close(real_box: Sandbox) -> None:
    token = secrets.token_hex(6)
    assert real_box.run(["sh", "-c", LINGER, "linger", token], timeout=30).out == "started\n"
    shell = real_box.shell(timeout=30)
    shell.run(f"cat > /tmp/linger.sh <<'EOF'\n{LINGER}\nEOF")
    assert shell.run(f"sh /tmp/linger.sh {token}").output == "started\n"
    real_box.close()
    left = still_running_after(token)
    assert left == [], describe_processes(left)


@pytest.fixture(params=["bwrap", "docker"])
def small_ram_box(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    require_backend(request.param)
    with make_sandbox(request.param, tmp_bytes=4 * MiB, limits=Limits(file_bytes=64 * MiB)) as box:
        yield box


def test_dev_and_dev_shm_cannot_be_filled(small_ram_box: Sandbox) -> None:
    """bwrap's /dev was a writable tmpfs without a size, and /dev/shm a directory in it;
    docker's /dev/shm was 64 MiB whatever tmp_bytes said."""
    fill = (
        "head -c 20000000 /dev/zero > /dev/shm/fill; "
        "head -c 20000000 /dev/zero > /dev/fill 2>/dev/null && echo dev-writable; "
        "du -k /dev/shm | tail -1"
    )
    assert small_ram_box.run(["python3", "-c", "import multiprocessing as m; m.Lock()"]).ok
    out = small_ram_box.shell(timeout=30).run(fill).output
    assert "dev-writable" not in out
    assert int(out.split()[-2]) <= 4 * 1024, out


@pytest.mark.parametrize("backend", ["bwrap", "docker"])
def test_a_command_cannot_mount_anything(backend: str) -> None:
    require_backend(backend)
    with make_sandbox(backend) as box:
        attempts = (
            "mount -t tmpfs none /tmp && echo mounted; "
            "unshare -m sh -c 'mount -t tmpfs none /tmp && echo mounted'; "
            "unshare -Urm sh -c 'mount -t tmpfs none /tmp && echo mounted'; true"
        )
        assert "mounted" not in box.run(attempts).out


@needs_root
def test_a_local_sandbox_cannot_touch_other_sandboxes() -> None:
    """Local sandboxes ran as nobody, the user bwrap's work directories belong to and
    bwrap's commands run as: one could write into another's work directory and kill its
    processes."""
    require_backend("bwrap")
    with (
        make_sandbox("local") as box,
        make_sandbox("bwrap") as other,
        make_sandbox("local") as local_other,
    ):
        runner = threading.Thread(target=lambda: other.run("sleep 2.468", timeout=10))
        runner.start()
        deadline = time.monotonic() + 5
        while not (victims := processes_running("sleep 2.468")) and time.monotonic() < deadline:
            time.sleep(0.02)
        targets = [other.workdir, local_other.workdir]  # type: ignore[attr-defined]
        attack = "".join(f"echo pwned > {t}/pwned && echo wrote {t}; " for t in targets)
        attack += f"kill -9 {' '.join(map(str, victims))} && echo killed; "
        attack += "touch /run/taskgym-uids/x && echo lock-dir; true"
        out = box.run(attack).out
        runner.join()
        assert out == "", out
        assert victims and processes_running("sleep 2.468") == []  # it ended by itself
        for target in targets:
            assert not os.path.exists(os.path.join(target, "pwned"))


@needs_root
def test_resets_clean_up_follows_no_link_out_of_the_sandbox(tmp_path: os.PathLike[str]) -> None:
    """As root, the local backend's reset removes what the sandbox's uid owns in /tmp:
    links it planted there must be removed, never followed."""
    victim_dir = os.path.join(tmp_path, "victim")
    os.mkdir(victim_dir)
    victim = os.path.join(victim_dir, "precious")
    with open(victim, "w") as f:
        f.write("host data")
    os.chmod(tmp_path, 0o755)
    with make_sandbox("local") as box:
        assert isinstance(box, LocalSandbox)
        token = secrets.token_hex(4)
        out = box.run(
            f"ln -s {victim_dir} /tmp/.dirlink-{token}; ln -s {victim} /tmp/.filelink-{token}; "
            f"mkdir /tmp/.d-{token} && ln -s {victim_dir} /tmp/.d-{token}/inner; "
            f"ln {victim} /tmp/.hard-{token} 2>/dev/null && echo hard-linked; "
            f"ln -s / /dev/shm/.root-{token}; echo planted"
        ).out
        assert out == "planted\n"
        box.reset()
        assert not [e for e in os.listdir("/tmp") if token in e]
    with open(victim) as f:
        assert f.read() == "host data"
    assert os.listdir(victim_dir) == ["precious"]
