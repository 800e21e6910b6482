"""The ``local`` backend: a child process with limits, no namespaces.

What it does: every command gets its own session and process group (killed as a whole
at its time-out and when it exits), rlimits on CPU, address space, processes, file size
and open files, a scrubbed environment, and a private work directory removed on close.
All of a sandbox's processes share one cgroup (see :mod:`taskgym.sandboxes.cgroup`),
which caps their memory (``memory_bytes``) and tasks (``pids``) together and lets
``reset()`` and ``close()`` kill every one of them, daemons that called ``setsid``
included; where no cgroup can be made the sandbox says why
(``memory_cap_unavailable_reason``) and logs it once.
When taskgym runs as root, commands run as a uid of the sandbox's own, so that the
process limit applies, root-only files stay unreadable, and ``reset()`` can remove
what the sandbox left outside its work directory (files in ``/tmp``, ``/var/tmp``,
``/dev/shm``, ``/run/lock``, System V IPC objects; POSIX message queues cannot be made,
their rlimit is 0).

What it does not do: hide the host's file system, block the network, or catch a daemon
that leaves its process group with ``setsid`` before the sandbox is reset. Without root
it cannot tell the sandbox's files outside the work directory from the user's own, and
leaves them (``reset_leaves_no_trace`` is False). Use it for trusted code, inside a
container, or where bubblewrap is not available.

Limits are applied by exec-ing through util-linux's ``setpriv`` and ``prlimit`` rather
than in a ``preexec_fn``, so that Python can spawn with ``vfork`` and a large parent (a
trainer holding a model) is never copied. Where those tools are missing, a
``preexec_fn`` does the same work.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import fcntl
import functools
import logging
import os
import pwd
import resource
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator

from taskgym.errors import SandboxError, SandboxUnavailableError
from taskgym.inside import scrub
from taskgym.inside.pump import communicate
from taskgym.sandboxes import cgroup
from taskgym.sandboxes.base import ExecResult, Limits, Sandbox

__all__ = ["DEFAULT_PIDS", "LocalSandbox", "reap_orphaned_workdirs"]

NOBODY = 65534
DEFAULT_PIDS = 256
"""Tasks (processes and threads) all of a sandbox's processes may have at once."""
# As root, each local sandbox runs its commands as a uid of its own from this range (the
# docker backend draws from 200000-999999), held by a lock in _UID_LOCKS for its life.
_UID_RANGE = (100_000, 199_999)
_UID_LOCKS = "/run/taskgym-uids"
_SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/run/lock", "/var/lock")
_logger = logging.getLogger("taskgym")
_SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class LocalSandbox(Sandbox):
    """Run commands as child processes with rlimits in a private work directory.

    Args:
        limits: default limits for each command.
        run_as_uid: the user commands run as. ``None`` means, when taskgym runs as root,
            a uid of the sandbox's own (100000-199999, held for its life; what it owns
            anywhere is the sandbox's, so reset and close remove it) and otherwise the
            current user.
        base_dir: where to create the work directory (default: the system temp dir).
        disk_bytes, max_files: a quota on the work directory (root only: a tmpfs).
        memory_bytes: the memory all of the sandbox's processes may hold together
            (a cgroup's limit). Past it the kernel kills one of them, never the host.
            By default twice the largest ``Limits.memory_bytes`` the sandbox's
            commands were given (its own limits' at first).
        pids: the processes and threads all of them may have at once.
    """

    backend = "local"
    # As root, draw a uid of the sandbox's own (so that reset can find what it left
    # outside the work directory); bwrap's namespaces keep nothing outside it anyway.
    _own_uid_when_root = True

    # Where commands see their work directory and temporary files (subclasses that
    # mount the work directory elsewhere change these).
    inside_workdir: str
    inside_tmpdir: str

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        run_as_uid: int | None = None,
        base_dir: str | None = None,
        disk_bytes: int | None = None,
        max_files: int | None = None,
        memory_bytes: int | None = None,
        pids: int = DEFAULT_PIDS,
    ) -> None:
        super().__init__(limits)
        self._uid_lease: int | None = None  # the lock that keeps a uid of our own
        if run_as_uid is None and os.geteuid() == 0 and self._own_uid_when_root:
            run_as_uid, self._uid_lease = _lease_uid()
        self._uid = run_as_uid if run_as_uid is not None else _default_uid()
        self._own_uid = self._uid_lease is not None
        self._gid = self._uid if self._own_uid else NOBODY if self._uid == NOBODY else os.getgid()
        self._drop_privileges = self._uid != os.geteuid()
        if self._drop_privileges and os.geteuid() != 0:
            raise SandboxError(
                f"run_as_uid={self._uid} needs root; leave run_as_uid unset to run as yourself"
            )
        self._prlimit = shutil.which("prlimit")
        self._setpriv = shutil.which("setpriv")
        self._cgroup: cgroup.SandboxCgroup | None = None
        self._no_cgroup_reason: str | None = None
        self._root_fd = -1
        self._quota_mounted = False
        self._owner_pid = os.getpid()  # a forked child must never close it
        self._owner_fd = -1
        self.workdir, self._owner_fd = _claim_workdir(self.backend, base_dir)
        try:
            if disk_bytes is not None or max_files is not None:
                self._mount_quota(disk_bytes, max_files)
            os.chmod(self.workdir, 0o700)
            if self._drop_privileges:
                os.chown(self.workdir, self._uid, self._gid)
            self._root_fd = os.open(self.workdir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            # By default the cap follows the commands' limits: a checker the task lets
            # take 4 GiB (address space) must not be cut at twice the default's 1 GiB.
            self._cap_follows_limits = memory_bytes is None
            self._make_cgroup(memory_bytes or 2 * int(self.limits.memory_bytes), pids)
            # After the cgroup: making it killed what dead owners' sandboxes still ran.
            _reap_once(os.path.dirname(self.workdir))
        except BaseException:
            self._release()
            raise
        _OPEN.add(self)
        self.inside_workdir = self.workdir
        self.inside_tmpdir = self.workdir

    def _make_cgroup(self, memory_bytes: int, pids: int) -> None:
        """Put every process of this sandbox into a cgroup of its own (see cgroup.py),
        or say why not, once per process in the log and always in
        ``memory_cap_unavailable_reason``."""
        try:
            self._cgroup = cgroup.create(memory_bytes, pids)
        except cgroup.CgroupUnavailable as e:
            self._no_cgroup_reason = str(e)
            _warn_once_uncapped(self.backend, self._no_cgroup_reason)

    @property
    def uid(self) -> int:
        """The user the sandbox's commands run as."""
        return self._uid

    @property
    def memory_cap_bytes(self) -> int | None:
        return None if self._cgroup is None else self._cgroup.memory_bytes

    @property
    def memory_cap_unavailable_reason(self) -> str | None:
        if self._cgroup is not None:
            return None
        return f"no cgroup could be made for the sandbox: {self._no_cgroup_reason}"

    @property
    def reset_leaves_no_trace(self) -> bool:
        # Files and IPC objects outside the work directory can be told apart from other
        # users' only by a uid of the sandbox's own; so can its processes without a cgroup.
        return self._own_uid

    def _mount_quota(self, disk_bytes: int | None, max_files: int | None) -> None:
        """Put the work directory on its own tmpfs, so that filling it (with bytes or
        with a million empty files) hits the sandbox's quota, not the host's disk."""
        if os.geteuid() != 0:
            raise SandboxUnavailableError(
                "disk_bytes and max_files need root (they mount a tmpfs); leave them unset"
            )
        options = [f"mode=0700,uid={self._uid},gid={self._gid}"]
        if disk_bytes is not None:
            options.append(f"size={int(disk_bytes)}")
        if max_files is not None:
            options.append(f"nr_inodes={int(max_files)}")
        try:
            _mount_tmpfs(self.workdir, ",".join(options))
        except OSError as e:
            raise SandboxUnavailableError(
                f"cannot mount a tmpfs quota on the work directory ({e}); this needs root "
                "with CAP_SYS_ADMIN: leave disk_bytes and max_files unset"
            ) from e
        self._quota_mounted = True

    # -- running -------------------------------------------------------------------

    def _run(
        self, argv: list[str], stdin: bytes, limits: Limits, env: dict[str, str]
    ) -> ExecResult:
        try:
            proc = self._spawn(argv, limits, env, merge_stderr=False)
        except FileNotFoundError:
            return ExecResult(exit_code=127, stderr=f"{argv[0]}: command not found\n".encode())
        except PermissionError:
            return ExecResult(exit_code=126, stderr=f"{argv[0]}: permission denied\n".encode())
        except OSError as e:  # EAGAIN, ENOMEM: the sandbox is at its pids or memory cap
            return ExecResult(exit_code=126, stderr=_cannot_start(argv[0], e).encode())
        done = communicate(proc, stdin, limits.wall_seconds, int(limits.output_bytes))
        return ExecResult(*done)

    def _spawn(
        self, argv: list[str], limits: Limits, env: dict[str, str], *, merge_stderr: bool
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` inside the boundary, in its own session, with pipes."""
        # RLIMIT_NPROC counts every thread of the user, inside the sandbox or not (and
        # killed children until init reaps them), so the limit is what the user runs now
        # plus what this command may add. Counting costs ~0.2 ms on a quiet machine.
        nproc = _count_threads_of(self._uid) + limits.processes
        full_env = {
            "PATH": _SAFE_PATH,
            "HOME": self.inside_workdir,
            "TMPDIR": self.inside_tmpdir,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            **env,
        }
        argv = self._wrap(argv, full_env)
        preexec: Callable[[], None] | None = None
        if self._prlimit and (self._setpriv or not self._drop_privileges):
            argv = self._exec_prefix(limits, nproc) + argv
        else:
            preexec = self._preexec(limits, nproc)

        def popen(command: list[str]) -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
                cwd=self.workdir,
                env=full_env,
                start_new_session=True,
                close_fds=True,
                preexec_fn=preexec,  # noqa: PLW1509 - only where util-linux is absent
            )

        if self._cgroup is not None:
            if self._cap_follows_limits:
                self._cgroup.raise_to(2 * int(limits.memory_bytes))
            return self._cgroup.spawn(popen, argv)
        return popen(argv)

    def _start_process(
        self, argv: list[str], limits: Limits, merge_stderr: bool
    ) -> subprocess.Popen[bytes]:
        try:
            return self._spawn(argv, limits, {}, merge_stderr=merge_stderr)
        except (FileNotFoundError, PermissionError):
            raise
        except OSError as e:
            raise SandboxError(_cannot_start(argv[0], e).strip()) from e

    def _wrap(self, argv: list[str], env: dict[str, str]) -> list[str]:
        """The command line that runs ``argv`` inside the boundary (a hook for backends
        built on this one; the local backend adds nothing)."""
        return argv

    def _exec_prefix(self, limits: Limits, nproc: int) -> list[str]:
        assert self._prlimit is not None  # checked by the caller
        prefix = []
        if self._drop_privileges:
            assert self._setpriv is not None
            prefix = [
                self._setpriv,
                f"--reuid={self._uid}",
                f"--regid={self._gid}",
                "--clear-groups",
                "--no-new-privs",
                "--",
            ]
        cpu = int(limits.cpu_seconds)
        return [
            *prefix,
            self._prlimit,
            f"--cpu={cpu}:{cpu + 1}",
            f"--as={int(limits.memory_bytes)}",
            f"--nproc={nproc}",
            f"--fsize={int(limits.file_bytes)}",
            f"--nofile={int(limits.open_files)}",
            "--core=0",
            # POSIX message queues outlive their makers and reset cannot list them (no
            # mqueue file system is mounted on a host): a sandbox of its own uid makes none.
            *(["--msgqueue=0"] if self._own_uid else []),
            "--",
        ]

    def _preexec(self, limits: Limits, nproc: int) -> Callable[[], None]:
        uid, gid, drop, own = self._uid, self._gid, self._drop_privileges, self._own_uid

        def apply() -> None:
            cpu = int(limits.cpu_seconds)
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            resource.setrlimit(resource.RLIMIT_AS, (int(limits.memory_bytes),) * 2)
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
            resource.setrlimit(resource.RLIMIT_FSIZE, (int(limits.file_bytes),) * 2)
            resource.setrlimit(resource.RLIMIT_NOFILE, (int(limits.open_files),) * 2)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if own:
                resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))
            if drop:
                os.setgroups([])
                os.setresgid(gid, gid, gid)
                os.setresuid(uid, uid, uid)

        return apply

    # -- files ---------------------------------------------------------------------
    # Every path is walked one component at a time from the work directory's fd with
    # O_NOFOLLOW, so a symbolic link planted by a command can never make the host read
    # or write outside the work directory, however it is placed.

    def _write(self, path: str, data: bytes, mode: int) -> None:
        *parents, name = path.split("/")
        with self._open_dir(parents, create=True) as dir_fd:
            # Write a new file and rename it into place: a hard or symbolic link that a
            # command left under ``name`` is replaced, never written through.
            tmp = f".taskgym-tmp-{os.getpid()}-{time.monotonic_ns()}"
            fd = os.open(
                tmp,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                mode,
                dir_fd=dir_fd,
            )
            try:
                with os.fdopen(fd, "wb", closefd=False) as f:
                    f.write(data)
                if self._drop_privileges:
                    os.fchown(fd, self._uid, self._gid)
                os.fchmod(fd, mode)
            finally:
                os.close(fd)
            os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)

    def _read(self, path: str, max_bytes: int) -> bytes:
        *parents, name = path.split("/")
        with self._open_dir(parents, create=False) as dir_fd:
            fd = _open_no_follow(
                name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd, path
            )
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise PermissionError(errno.EACCES, "refusing to read: not a regular file", path)
            if info.st_nlink > 1:
                raise PermissionError(errno.EACCES, "refusing to read: file has hard links", path)
            with os.fdopen(fd, "rb", closefd=False) as f:
                data = f.read(max_bytes + 1)
        finally:
            os.close(fd)
        if len(data) > max_bytes:
            raise OSError(errno.EFBIG, f"file is larger than max_bytes={max_bytes}", path)
        return data

    @contextlib.contextmanager
    def _open_dir(self, parts: list[str], *, create: bool) -> Iterator[int]:
        fd = os.dup(self._root_fd)
        try:
            for part in parts:
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o755, dir_fd=fd)
                        if self._drop_privileges:
                            os.chown(part, self._uid, self._gid, dir_fd=fd, follow_symlinks=False)
                flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
                child = _open_no_follow(part, flags, fd, "/".join(parts))
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    # -- reuse and closing ---------------------------------------------------------

    def reset(self) -> None:
        """Stop every process of the sandbox (shells, zygotes, and with a cgroup or a uid
        of its own, daemons that left their session) and empty the work directory; with
        a uid of its own, also remove what it left anywhere else (files in /tmp,
        /var/tmp, /dev/shm..., System V IPC objects)."""
        self._ensure_open()
        self._stop_processes()
        os.chmod(self.workdir, 0o700)  # its owner (the sandbox's user) may have locked it
        stayed = scrub.empty(self.workdir)
        stayed += self._scrub_outside()
        if stayed:
            raise SandboxError(f"reset could not remove {stayed[:5]}")

    def _stop_processes(self) -> None:
        super()._stop_processes()
        if self._cgroup is not None:
            stopped = self._cgroup.kill_all()
        else:
            stopped = not self._own_uid or scrub.kill_user(self._uid)
        if not stopped and not self.closed:
            raise SandboxError("some processes of the sandbox would not die")

    def _scrub_outside(self) -> list[str]:
        """Remove what the sandbox's own uid left outside the work directory."""
        if not self._own_uid:
            return []
        info = os.fstat(self._root_fd)
        keep = frozenset({(info.st_dev, info.st_ino)})
        stayed = scrub.remove_owned(self._uid, _shared_writable_dirs(), keep=keep, deep=False)
        if scrub.remove_ipc(self._uid):
            stayed.append("System V IPC objects")
        return stayed

    def _close(self) -> None:
        self._release()

    def _release(self) -> None:
        """Undo what __init__ made, as far as it got: the cgroup (and whatever still runs
        in it), the traces of the uid, the work directory and the uid's lease."""
        if self._cgroup is not None:
            self._cgroup.release()
        if self._own_uid:
            if self._cgroup is None:
                scrub.kill_user(self._uid)
            if self._root_fd >= 0:
                self._scrub_outside()
        if self._root_fd >= 0:
            os.close(self._root_fd)
            self._root_fd = -1
        self._remove_workdir()
        if self._owner_fd >= 0:  # last: while it is locked, no reaper takes the directory
            _end_ownership(self.workdir, self._owner_fd)
            self._owner_fd = -1
        if self._uid_lease is not None:
            _end_uid_lease(self._uid, self._uid_lease)
            self._uid_lease = None

    def _remove_workdir(self) -> None:
        if self._quota_mounted:
            self._quota_mounted = False
            _remove_mounted(self.workdir)
            return
        _remove_tree(self.workdir)

    def __del__(self) -> None:
        # A forgotten sandbox must not leave its directory behind for ever; a forked
        # child's copy is its parent's, which still uses it.
        if not getattr(self, "_closed", True) and getattr(self, "_owner_pid", 0) == os.getpid():
            with contextlib.suppress(Exception):
                self.close()


# -- work directories: owned while their process lives, reaped after ---------------------
# Each work directory has a sibling "<workdir>.owner" file that its sandbox holds locked
# (flock) for its life: the kernel drops the lock when the process dies, however it dies,
# and across pid namespaces, so a lock that can be taken marks a dead owner (a pid would
# need its start time, and could not be told apart in another pid namespace).

_OWNER_SUFFIX = ".owner"
_OWNER_TMP_PREFIX = ".taskgym-owner-"
_STRAY_OWNER_SECONDS = 60.0
_OPEN: weakref.WeakSet[LocalSandbox] = weakref.WeakSet()
_reaped: set[str] = set()
_reaped_lock = threading.Lock()


def _claim_workdir(backend: str, base_dir: str | None) -> tuple[str, int]:
    """A new work directory in ``base_dir`` (default: the temp directory) and the
    descriptor of its locked owner file. The file is locked under a temporary name
    before it takes its real one, so that no reaper ever sees it unlocked."""
    base = base_dir if base_dir is not None else tempfile.gettempdir()
    fd, owner_tmp = tempfile.mkstemp(prefix=_OWNER_TMP_PREFIX, dir=base)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, f"{os.getpid()}\n".encode())
        workdir = tempfile.mkdtemp(prefix=f"taskgym-{backend}-", dir=base)
        try:
            os.rename(owner_tmp, workdir + _OWNER_SUFFIX)
        except OSError:
            os.rmdir(workdir)
            raise
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(owner_tmp)
        raise
    return workdir, fd


def _end_ownership(workdir: str, fd: int) -> None:
    """Remove the owner file, then let go of its lock (the directory is gone)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(workdir + _OWNER_SUFFIX)
    os.close(fd)


def _reap_once(base: str) -> None:
    """At this process's first sandbox in ``base``: :func:`reap_orphaned_workdirs`."""
    with _reaped_lock:
        if base in _reaped:
            return
        _reaped.add(base)
    try:
        reap_orphaned_workdirs(base)
    except OSError as e:  # leftovers must never stop a new sandbox
        _logger.warning("taskgym: could not reap orphaned sandbox directories in %s: %s", base, e)


def reap_orphaned_workdirs(base: str | None = None) -> list[str]:
    """Remove (unmount first, where a quota's tmpfs is mounted) the local and bwrap work
    directories in ``base`` (default: the temp directory) whose owner process is gone,
    killed or crashed before it closed them, and say which. Each sandbox calls it once a
    process for its directory's place. Directories of live processes, of other users,
    and those without an owner file (made by taskgym before it kept one) are left."""
    base = base if base is not None else tempfile.gettempdir()
    reaped: list[str] = []
    for name in os.listdir(base):
        path = os.path.join(base, name)
        if name.startswith("taskgym-") and name.endswith(_OWNER_SUFFIX):
            workdir = path[: -len(_OWNER_SUFFIX)]
            if _reap_if_orphaned(workdir):
                reaped.append(workdir)
        elif name.startswith(_OWNER_TMP_PREFIX):
            _remove_stray_owner_file(path)
    return reaped


def _reap_if_orphaned(workdir: str) -> bool:
    owner = workdir + _OWNER_SUFFIX
    try:
        fd = os.open(owner, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            return False  # not one this user's sandbox made
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # its owner lives
        try:  # its owner may have closed it, and removed the file, since we opened it
            current = os.stat(owner, follow_symlinks=False).st_ino == info.st_ino
        except FileNotFoundError:
            current = False
        if not current:
            return False
        _remove_orphan(workdir)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(owner)
        return True
    finally:
        os.close(fd)


def _remove_orphan(workdir: str) -> None:
    try:
        info = os.lstat(workdir)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        return  # never follow a link to somewhere else
    if os.path.ismount(workdir):
        _remove_mounted(workdir)
    else:
        _remove_tree(workdir)


def _remove_stray_owner_file(path: str) -> None:
    """An owner file its process died before naming (it lived a few microseconds)."""
    with contextlib.suppress(OSError):
        info = os.lstat(path)
        if (
            stat.S_ISREG(info.st_mode)
            and info.st_uid == os.geteuid()
            and time.time() - info.st_mtime > _STRAY_OWNER_SECONDS
        ):
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.unlink(path)
            finally:
                os.close(fd)


@atexit.register
def _close_open_sandboxes() -> None:
    """At exit, close what the program left open (its directories, tmpfs mounts and
    processes would otherwise stay until the next process's reaper)."""
    for box in list(_OPEN):
        if not box.closed and box._owner_pid == os.getpid():
            with contextlib.suppress(Exception):
                box.close()


def _default_uid() -> int:
    return NOBODY if os.geteuid() == 0 else os.geteuid()


def _lease_uid() -> tuple[int, int]:
    """A uid no other sandbox on this host uses, and the descriptor whose lock keeps it
    so (released with the process, even a killed one). Never a user's (an account, a
    subordinate range of /etc/subuid or /etc/subgid) nor one that runs processes. A uid
    whose lock file outlived its holder is scrubbed before it is used again."""
    os.makedirs(_UID_LOCKS, mode=0o700, exist_ok=True)
    info = os.lstat(_UID_LOCKS)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
        raise SandboxError(f"{_UID_LOCKS} must be a directory only root can write")
    taken = _subordinate_ids()
    for _ in range(100):
        uid = _UID_RANGE[0] + secrets.randbelow(_UID_RANGE[1] - _UID_RANGE[0] + 1)
        if any(first <= uid < end for first, end in taken) or _has_account(uid):
            continue  # someone's: a user, or a rootless container's mapped range
        path = os.path.join(_UID_LOCKS, str(uid))
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(path, flags | os.O_EXCL, 0o600)
            stale = False
        except FileExistsError:
            fd = os.open(path, flags, 0o600)
            stale = True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            current = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if not current:  # its last holder removed it between our open and our lock
            os.close(fd)
            continue
        if stale:  # its holder died without closing its sandbox
            scrub.kill_user(uid)
            scrub.remove_owned(uid, _shared_writable_dirs(), deep=False)
            scrub.remove_ipc(uid)
        elif _runs_processes(uid):  # not ours (a container's?): never share it
            _end_uid_lease(uid, fd)
            continue
        return uid, fd
    raise SandboxError(f"no free uid in {_UID_RANGE} for a local sandbox")


def _has_account(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def _subordinate_ids() -> list[tuple[int, int]]:
    """The uid and gid ranges /etc/subuid and /etc/subgid give users (rootless
    containers map their users there)."""
    ranges = []
    for path in ("/etc/subuid", "/etc/subgid"):
        with contextlib.suppress(OSError), open(path) as f:
            for line in f:
                fields = line.strip().split(":")
                if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
                    ranges.append((int(fields[1]), int(fields[1]) + int(fields[2])))
    return ranges


def _runs_processes(uid: int) -> bool:
    with contextlib.suppress(OSError), os.scandir("/proc") as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.name.isdigit() and entry.stat().st_uid == uid:
                    return True
    return False


def _end_uid_lease(uid: int, fd: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(_UID_LOCKS, str(uid)))
    os.close(fd)


def _shared_writable_dirs() -> list[str]:
    """The places every user may write to (followed to where they are, each once)."""
    return list(dict.fromkeys(os.path.realpath(d) for d in _SHARED_WRITABLE if os.path.isdir(d)))


def _cannot_start(program: str, error: OSError) -> str:
    return (
        f"{program}: could not start ({error.strerror}): the sandbox is at its cap on "
        "processes or memory\n"
    )


@functools.lru_cache(maxsize=4)
def _warn_once_uncapped(backend: str, reason: str) -> None:
    _logger.warning(
        "taskgym: %s sandboxes have no memory cap for all their processes together, only "
        "per-process rlimits (%s)",
        backend,
        reason,
    )


def _count_threads_of(uid: int) -> int:
    """Threads of ``uid`` that the kernel charges against its RLIMIT_NPROC here: those in
    this user namespace and in user namespaces ``uid`` created (bubblewrap's, with the
    zombies this machine's init reaps late), but not those in namespaces another user
    made (a gVisor sandbox's, say), which the kernel charges elsewhere."""
    try:
        entries = list(os.scandir("/proc"))
        own_namespace = os.readlink("/proc/self/ns/user")
    except OSError:
        return 0
    counted: dict[str, bool] = {own_namespace: True}
    count = 0
    for entry in entries:
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if entry.stat().st_uid != uid:
                continue
            namespace = os.readlink(f"/proc/{entry.name}/ns/user")
            if namespace not in counted:
                counted[namespace] = _namespace_owner(f"/proc/{entry.name}/ns/user") == uid
            if counted[namespace]:
                count += len(os.listdir(f"/proc/{entry.name}/task"))
    return count


def _namespace_owner(path: str) -> int | None:
    """The uid that created a user namespace (ioctl NS_GET_OWNER_UID), None if unknown."""
    ns_get_owner_uid = 0xB704
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        owner = bytearray(4)
        fcntl.ioctl(fd, ns_get_owner_uid, owner)
        return int.from_bytes(owner, sys.byteorder)
    except OSError:
        return None
    finally:
        os.close(fd)


def _open_no_follow(name: str, flags: int, dir_fd: int, shown: str) -> int:
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise PermissionError(
                errno.EACCES, "refusing to follow a symbolic link or non-directory", shown
            ) from e
        raise


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount_tmpfs(target: str, options: str) -> None:
    # MS_NOSUID | MS_NODEV. Not MS_NOEXEC: a compiled ./a.out must run from the work dir.
    flags = 0x2 | 0x4
    if _libc().mount(b"tmpfs", target.encode(), b"tmpfs", flags, options.encode()) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), target)


def _unmount_lazily(target: str) -> None:
    mnt_detach = 0x2
    _libc().umount2(target.encode(), mnt_detach)


def _remove_mounted(target: str) -> None:
    # Detach at once even if something still has it open; the kernel frees the tmpfs
    # (and every file in it) when the last user goes.
    _unmount_lazily(target)
    with contextlib.suppress(OSError):
        os.rmdir(target)


def _remove_tree(path: str) -> None:
    # Iterative and by descriptor: a tree deeper than Python's recursion limit or
    # PATH_MAX (a command's loop of mkdir and cd) must not break reset or close.
    with contextlib.suppress(OSError):
        scrub.remove_tree(path)
