"""The ``bwrap`` backend: the local backend's limits inside bubblewrap's namespaces.

Each command runs in new user, pid, network, mount, IPC, UTS and cgroup namespaces
(``--unshare-all``) with:

- a read-only view of the system directories only (``/usr``, ``/etc`` and the ``/bin``,
  ``/lib``... links or directories); the host's ``/home``, ``/root``, ``/tmp`` and other
  sandboxes' work directories do not exist inside;
- the work directory bound read-write at ``/work`` (the current directory, ``HOME``),
  a private ``/tmp`` and ``/dev/shm`` of limited size each, a fresh ``/proc`` and a
  minimal read-only ``/dev``; the root itself is read-only;
- one cgroup for all of the sandbox's processes (see
  :mod:`taskgym.sandboxes.cgroup`): a cap on their memory (``memory_bytes``) and tasks
  (``pids``) together, and a list of every one of them for ``reset()`` and ``close()``
  to kill;
- no network, not even the host's loopback, unless ``network=True``;
- ``--new-session`` (without it a command could push keystrokes into the parent's
  terminal, CVE-2017-5226), ``--die-with-parent``, ``--clearenv``, and no further user
  namespaces (``--disable-userns``);
- taskgym's own package hidden, where it lies under a system directory (its bundled
  task files hold hidden tests), and any other path given in ``hide``;
- a pid namespace whose init is bubblewrap: when the command exits, everything it
  started dies with the namespace, daemons that called ``setsid`` included.

When taskgym runs as root, the command chain drops to ``nobody`` *before* bubblewrap,
so that bubblewrap uses an unprivileged user namespace. (Run as root with ``--uid``,
bubblewrap would map ``nobody`` inside to root outside, and root's files would be
readable: measured while building this.) As root, the work directory is also a tmpfs
with a size and file-count quota.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from taskgym.errors import SandboxUnavailableError
from taskgym.sandboxes.base import ExecResult, Limits
from taskgym.sandboxes.local import DEFAULT_PIDS, NOBODY, LocalSandbox

__all__ = ["BwrapSandbox", "bwrap_unavailable_reason"]

INSIDE_WORKDIR = "/work"
_SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap)"
# Quotas on the work directory when running as root (see LocalSandbox._mount_quota).
DEFAULT_DISK_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_FILES = 50_000
DEFAULT_TMP_BYTES = 64 * 1024 * 1024


class BwrapSandbox(LocalSandbox):
    """Run commands in bubblewrap namespaces, with the local backend's rlimits.

    Args:
        limits: default limits for each command.
        network: give commands the host's network (default: none at all).
        tmp_bytes: size of the private ``/tmp`` (RAM), 64 MiB by default.
        disk_bytes, max_files: quota of the work directory (root only; by default
            512 MiB and 50,000 files when root, none otherwise).
        base_dir: where the work directory is created on the host.
        hide: host paths under the system directories that commands must not see (each
            becomes an empty directory or file inside). taskgym's own package is always
            hidden: installed system-wide it lies under ``/usr``, with the bundled tasks'
            hidden tests.
        memory_bytes, pids: the cap on all of the sandbox's processes together (a
            cgroup's; see :class:`~taskgym.sandboxes.local.LocalSandbox`).
    """

    @property
    def reset_leaves_no_trace(self) -> bool:
        # Each command's and each session's files outside /work, IPC objects and
        # processes live in namespaces that die with it; reset kills the sessions.
        return True

    backend = "bwrap"
    _own_uid_when_root = False  # nothing outside /work outlives a command's namespaces

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        network: bool = False,
        tmp_bytes: int = DEFAULT_TMP_BYTES,
        disk_bytes: int | None = None,
        max_files: int | None = None,
        base_dir: str | None = None,
        hide: Sequence[str] = (),
        memory_bytes: int | None = None,
        pids: int = DEFAULT_PIDS,
    ) -> None:
        reason = bwrap_unavailable_reason()
        if reason is not None:
            raise SandboxUnavailableError(reason)
        if os.geteuid() == 0:
            disk_bytes = DEFAULT_DISK_BYTES if disk_bytes is None else disk_bytes
            max_files = DEFAULT_MAX_FILES if max_files is None else max_files
        self.network = network
        self.tmp_bytes = int(tmp_bytes)
        # taskgym itself is hidden too: installed system-wide it sits under /usr, and its
        # bundled task files hold the hidden tests.
        self.hidden = _paths_to_hide([*hide, str(Path(__file__).resolve().parents[1])])
        self._bwrap = _bwrap_path()
        super().__init__(
            limits,
            base_dir=base_dir,
            disk_bytes=disk_bytes,
            max_files=max_files,
            memory_bytes=memory_bytes,
            pids=pids,
        )
        self.inside_workdir = INSIDE_WORKDIR
        self.inside_tmpdir = "/tmp"

    def _wrap(self, argv: list[str], env: dict[str, str]) -> list[str]:
        args = _bwrap_args(self._bwrap, self.workdir, env, self.network, self.tmp_bytes)
        return [*args, *self.hidden, "--", *argv]

    def _run(
        self, argv: list[str], stdin: bytes, limits: Limits, env: dict[str, str]
    ) -> ExecResult:
        result = super()._run(argv, stdin, limits, env)
        # bubblewrap reports a command it could not start as exit 1; say 127 as a shell
        # (and the local backend) would, so "not found" reads the same on every backend.
        if result.exit_code == 1 and result.stderr.startswith(b"bwrap: execvp "):
            return dataclasses.replace(result, exit_code=127)
        return result


def _paths_to_hide(paths: Sequence[str]) -> list[str]:
    """bwrap arguments that cover each path the sandbox would otherwise see (it lies
    under a bound system directory) with something empty and read-only."""
    args: list[str] = []
    for path in map(os.path.realpath, paths):
        if not any(path == d or path.startswith(d + "/") for d in _SYSTEM_DIRS):
            continue  # not bound into the sandbox: nothing to hide
        if os.path.isdir(path):
            args += ["--tmpfs", path, "--remount-ro", path]
        elif os.path.exists(path):
            args += ["--ro-bind", "/dev/null", path]
    return args


def system_dirs_read_only() -> list[str]:
    """bwrap arguments that show the system directories read-only (``/usr``, ``/etc``
    and the ``/bin``, ``/lib``... links or directories), as this machine has them."""
    args: list[str] = []
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _bwrap_path() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailableError(f"bubblewrap (bwrap) is not on PATH; {_INSTALL_HINT}")
    return path


def _bwrap_args(
    bwrap: str, workdir: str, env: dict[str, str], network: bool, tmp_bytes: int
) -> list[str]:
    args = [
        bwrap,
        "--unshare-all",
        "--unshare-user",  # explicit: --unshare-all only tries, and --disable-userns needs it
        *(["--share-net"] if network else []),
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
        "--clearenv",
    ]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += system_dirs_read_only()
    args += [
        "--proc", "/proc",
        "--dev", "/dev",
        # /tmp, /dev/shm, /dev and the root are RAM: a size on the first two, the others
        # read-only, so that none can be filled to exhaust the host's memory (bwrap's
        # /dev was writable and unbounded).
        "--size", str(tmp_bytes), "--tmpfs", "/tmp",
        "--size", str(tmp_bytes), "--tmpfs", "/dev/shm",
        "--bind", workdir, INSIDE_WORKDIR,
        "--chdir", INSIDE_WORKDIR,
        "--remount-ro", "/dev",
        "--remount-ro", "/",
    ]  # fmt: skip
    return args


@functools.lru_cache(maxsize=1)
def bwrap_unavailable_reason() -> str | None:
    """None if bubblewrap works here, else why not (probed once per process).

    The probe runs the real chain (as ``nobody`` when root) so that a kernel without
    unprivileged user namespaces, or a container that forbids them, is found here and
    not at the first episode.
    """
    try:
        bwrap = _bwrap_path()
    except SandboxUnavailableError as e:
        return str(e)
    probe_args = _bwrap_args(bwrap, "/tmp", {"PATH": "/usr/bin:/bin"}, False, DEFAULT_TMP_BYTES)
    argv = [*probe_args, "--", "true"]
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0:
        if setpriv is None:
            return "setpriv (util-linux) is needed to run bubblewrap unprivileged as root"
        argv = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv]
    try:
        result = subprocess.run(argv, capture_output=True, timeout=30, check=False, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"bubblewrap did not start: {e}"
    if result.returncode != 0:
        err = result.stderr.decode(errors="replace").strip()[:300]
        return (
            f"bubblewrap cannot create its namespaces here ({err}); it needs unprivileged "
            "user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
            "user.max_user_namespaces > 0)"
        )
    return None
