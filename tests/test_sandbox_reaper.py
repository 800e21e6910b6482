"""Work directories of local and bwrap sandboxes never outlive their process for long:
closed at exit, and reaped by the next process's first sandbox after a crash or a kill,
while a live process's are never touched."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskgym.sandboxes import make_sandbox
from taskgym.sandboxes.local import reap_orphaned_workdirs
from tests.conftest import require_backend

ROOT = Path(__file__).resolve().parents[1]

# Makes a Shell-v0 env in bwrap and a local-backend env, says where their work
# directories are, and then waits to be killed, or exits without closing them.
_HOLDER = textwrap.dedent(
    """
    import sys, time
    import gymnasium as gym
    import taskgym

    shell = gym.make("taskgym/Shell-v0", sandbox="bwrap")
    shell.reset(seed=0)
    shell.step("echo kept > note.txt")
    local = gym.make("taskgym/ArithmeticProgram-v0", sandbox="local")
    local.reset(seed=0)
    print(shell.unwrapped.sandbox.workdir, local.unwrapped.sandbox.workdir, flush=True)
    if sys.argv[1] == "wait":
        time.sleep(600)
    """
)


def _start(tmp: Path, mode: str) -> tuple[subprocess.Popen[str], list[str]]:
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, mode], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, f"the holder did not start (exit {proc.wait(timeout=60)})"
    return proc, line.split()


def _close(proc: subprocess.Popen[str]) -> None:
    if proc.stdout is not None:
        proc.stdout.close()


def _leftovers(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("taskgym-"))


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temp directory the sandbox's user (nobody, for bwrap as root) can pass through,
    as the system's is; pytest's tmp_path is root's alone."""
    path = Path(tempfile.mkdtemp(prefix="reaper-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.integration
def test_a_killed_process_s_directories_and_mounts_are_reaped_and_a_live_one_s_kept(
    open_tmp: Path,
) -> None:
    require_backend("bwrap")
    tmp_path = open_tmp
    killed, killed_dirs = _start(tmp_path, "wait")
    live, live_dirs = _start(tmp_path, "wait")  # its first sandbox reaps: nothing dead yet
    try:
        assert all(os.path.isdir(d) for d in killed_dirs + live_dirs)
        mounted = os.geteuid() == 0  # bwrap's work directory is a quota'd tmpfs as root
        assert os.path.ismount(killed_dirs[0]) is mounted
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        assert all(os.path.isdir(d) for d in killed_dirs)  # left behind, as before

        exited, _ = _start(tmp_path, "exit")  # a new process: its first sandbox reaps
        assert exited.wait(timeout=60) == 0
        _close(exited)

        for workdir in killed_dirs:
            assert not os.path.exists(workdir) and not os.path.exists(workdir + ".owner")
            assert not os.path.ismount(workdir)
        assert Path(live_dirs[0], "note.txt").read_text() == "kept\n"
        assert all(os.path.isdir(d) for d in live_dirs)
        # What is left is the live process's own, and nothing of the one that exited.
        assert _leftovers(tmp_path) == sorted(
            name for d in live_dirs for name in (Path(d).name, Path(d).name + ".owner")
        )
    finally:
        for proc in (killed, live):
            proc.kill()
            proc.wait(timeout=30)
            _close(proc)
    assert sorted(reap_orphaned_workdirs(str(tmp_path))) == sorted(live_dirs)
    assert _leftovers(tmp_path) == []


@pytest.mark.integration
def test_a_crashed_training_loop_leaves_nothing_at_exit(open_tmp: Path) -> None:
    require_backend("bwrap")
    code = (
        "import gymnasium as gym, taskgym\n"
        "env = gym.make('taskgym/Shell-v0', sandbox='bwrap')\n"
        "env.reset(seed=0)\n"
        "env.step('echo x > a.txt')\n"
        "raise RuntimeError('the training loop crashed')\n"
    )
    env = {**os.environ, "TMPDIR": str(open_tmp), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, env=env, timeout=120, capture_output=True
    )
    assert b"the training loop crashed" in done.stderr
    assert _leftovers(open_tmp) == []


def test_the_reaper_takes_only_directories_whose_owner_file_is_unlocked(tmp_path: Path) -> None:
    with make_sandbox("local", base_dir=str(tmp_path)) as box:
        # Like a dead process's: its owner file exists, and no one holds its lock.
        dead = tmp_path / "taskgym-local-dead"
        (dead / "sub").mkdir(parents=True)
        (dead / "sub" / "f.txt").write_text("left")
        (tmp_path / "taskgym-local-dead.owner").write_text("123\n")
        # Unknown: no owner file (taskgym before it kept them, or being made now).
        (tmp_path / "taskgym-local-unowned").mkdir()
        # Held: its owner's lock is taken, as a live process's is.
        held = tmp_path / "taskgym-local-held"
        held.mkdir()
        with open(tmp_path / "taskgym-local-held.owner", "w") as owner:
            fcntl.flock(owner, fcntl.LOCK_EX)
            assert reap_orphaned_workdirs(str(tmp_path)) == [str(dead)]
        assert not dead.exists() and held.is_dir()
        assert (tmp_path / "taskgym-local-unowned").is_dir()
        assert os.path.isdir(box.workdir) and box.run(["true"]).ok  # ours: locked
    assert not os.path.exists(box.workdir) and not os.path.exists(box.workdir + ".owner")
