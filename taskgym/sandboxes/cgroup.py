"""A cgroup per sandbox: one cap on the memory (and the number of tasks) of all of a
sandbox's processes together.

rlimits bound each process (``Limits.memory_bytes`` is an address-space limit), so a
command that starts many processes, each under the limit, could take the host's memory:
one shell command took 6.3 GB in eight processes before this existed. The local and
bwrap backends put every process they start into a cgroup of the sandbox's own, whose
``memory`` limit makes the kernel's OOM killer pick a victim among the sandbox's
processes only, and whose ``pids`` limit stops a fork bomb. The same cgroup lists every
process the sandbox started, daemons that left their session included, so ``reset()``
and ``close()`` kill them all.

Where it is made: at the root of a hierarchy as this process sees it (the host's root,
or a container's with a cgroup namespace), not below taskgym's own cgroup. In v2 only
the root may both hold processes and give its children controllers, and in v1 a
cgroup left by a killed process would stay inside its parent (a job's or a session's
cgroup, which its manager could then not remove) where nothing would reap it; at the
root every later taskgym process does.

- cgroup v2, when the unified hierarchy's root offers the ``memory`` controller (and
  ``+memory`` can be written to its ``cgroup.subtree_control``). A process cannot move
  a single thread into a v2 cgroup, so each command starts through ``/bin/sh`` that
  writes its own pid into ``cgroup.procs`` and then execs the command (about 0.9 ms a
  command).
- otherwise cgroup v1, in the ``memory`` (and, if mounted, ``pids``) hierarchy. In v1
  a thread may join a cgroup on its own, so each sandbox has one spawner thread that
  joins the cgroup once and starts the sandbox's processes, which are born inside
  (moving each process instead cost 0.6-0.9 ms; a hop to the thread costs tens of
  microseconds). The thread is never its process's leader, and the kernel's OOM killer
  weighs only group leaders, so it never picks taskgym itself.
- nowhere, when neither can be made (not root, no controller, a read-only
  ``/sys/fs/cgroup``, a namespace root that holds processes): :func:`create` raises
  :class:`CgroupUnavailable` with the reason, and the sandbox runs with per-process
  rlimits only and says so (``Sandbox.memory_cap_unavailable_reason``).

A closed sandbox's cgroup, emptied, is kept for the next sandbox of the same process
(with its spawner thread): the first move of a thread into a new cgroup waits for the
kernel (milliseconds on a busy machine), and so does removing one right after its last
task ended. Idle ones are removed at exit. Cgroups are named ``taskgym-<pid>-<random>``;
one left behind by a process that died is removed (its processes killed) the next time
a process makes one.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import functools
import os
import queue
import secrets
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

__all__ = ["CgroupUnavailable", "SandboxCgroup", "create"]

_T = TypeVar("_T")
_PREFIX = "taskgym-"
_KILL_SECONDS = 5.0
_REMOVE_SECONDS = 2.0
_MAX_IDLE = 64


class CgroupUnavailable(Exception):
    """No cgroup can be made here; the message says why."""


class SandboxCgroup:
    """One sandbox's cgroup: its directories (one in v2; ``memory`` and maybe ``pids``
    in v1), the way processes are put into it, and their killing."""

    def __init__(self, version: int, dirs: list[str], memory_bytes: int, pids: int | None):
        self.version = version
        self.dirs = dirs
        self.memory_bytes = memory_bytes
        self.pids = pids
        self._spawner: _Spawner | None = None
        self._lock = threading.Lock()
        self._removed = False
        self._leased = True  # a sandbox uses it; False once released (idle) or removed

    def spawn(
        self, popen: Callable[[list[str]], subprocess.Popen[bytes]], argv: list[str]
    ) -> subprocess.Popen[bytes]:
        """``popen(argv)`` with the new process born inside this cgroup. Starts and
        :meth:`release` exclude each other, so that no process of a closed sandbox is
        born after its cgroup was emptied for the next sandbox."""
        with self._lock:
            if not self._leased:
                raise OSError(errno.ESRCH, "the sandbox's cgroup was released")
            if self.version == 2:
                # The shell runs as the caller (root) before any privilege drop in argv.
                procs = shlex.quote(os.path.join(self.dirs[0], "cgroup.procs"))
                return popen(["/bin/sh", "-c", f'echo $$ >{procs} && exec "$@"', "sh", *argv])
            return self._thread().call(lambda: popen(argv))

    def raise_to(self, memory_bytes: int) -> None:
        """Raise the memory cap to ``memory_bytes`` if it is lower (never lowers it)."""
        with self._lock:
            if memory_bytes > self.memory_bytes and not self._removed:
                self._set_memory(memory_bytes)

    def _set_memory(self, memory_bytes: int) -> None:
        if self.version == 2:
            _write(os.path.join(self.dirs[0], "memory.max"), str(memory_bytes))
        else:
            # memory+swap may never be below memory: it goes first when raising, last
            # when lowering
            names = ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]
            for name in reversed(names) if memory_bytes > self.memory_bytes else names:
                with contextlib.suppress(FileNotFoundError):  # no swap accounting
                    _write(os.path.join(self.dirs[0], name), str(memory_bytes))
        self.memory_bytes = memory_bytes

    def _set_pids(self, pids: int | None) -> None:
        folder = self.dirs[0] if self.version == 2 else self.dirs[-1]
        if pids is not None and os.path.exists(os.path.join(folder, "pids.max")):
            _write(os.path.join(folder, "pids.max"), str(pids))
            self.pids = pids

    def members(self) -> list[int]:
        """Pids of the processes inside (taskgym's own pid, whose spawner thread is a
        member in v1, left out)."""
        try:
            with open(os.path.join(self.dirs[0], "cgroup.procs")) as f:
                pids = {int(line) for line in f if line.strip()}
        except OSError:
            return []
        pids.discard(os.getpid())
        return sorted(pids)

    def kill_all(self) -> bool:
        """Kill every process inside; True once none is left (within a few seconds)."""
        kill_file = os.path.join(self.dirs[0], "cgroup.kill")
        deadline = time.monotonic() + _KILL_SECONDS
        while True:
            members = self.members()
            if not members:
                return True
            if time.monotonic() > deadline:
                return False
            if self.version == 2 and os.path.exists(kill_file):
                _write(kill_file, "1")  # atomic: nothing inside can fork away meanwhile
            else:
                for pid in members:  # again and again: children forked meanwhile
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
            time.sleep(0.002)

    def peak_bytes(self) -> int | None:
        """The most memory the sandbox's processes held at once (None if unknown)."""
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        try:
            with open(os.path.join(self.dirs[0], name)) as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        """Kill what is inside and keep the emptied cgroup for the process's next
        sandbox (or remove it, when enough are idle or something would not die)."""
        with self._lock:
            if not self._leased:
                return
            self._leased = False
        if self.kill_all() and _keep_idle(self):
            return
        self.remove()

    def _unreaped(self) -> int:
        """Tasks still charged to ``pids`` with no process inside: processes whose
        parent has not reaped them yet. bwrap's outer process exits before its
        namespace's init, which the host's init then reaps (late on some machines)."""
        folder = self.dirs[0] if self.version == 2 else self.dirs[-1]
        try:
            with open(os.path.join(folder, "pids.current")) as f:
                tasks = int(f.read())
        except (OSError, ValueError):
            return 0  # no pids controller: nothing is carried over
        return max(0, tasks - (self._spawner is not None and self.version == 1))

    def remove(self) -> None:
        """Kill what is inside and remove the directories (idempotent). One that stays
        busy is removed by the next :func:`create` in this process."""
        with self._lock:
            if self._removed:
                return
            self._removed, self._leased = True, False
            spawner, self._spawner = self._spawner, None
        if spawner is not None:
            spawner.stop()
        self.kill_all()
        if not _remove_dirs(self.dirs, _REMOVE_SECONDS):
            _leftovers.append(self.dirs)

    def _thread(self) -> _Spawner:
        """The spawner thread (the caller holds the lock)."""
        if self._spawner is None or self._spawner.pid != os.getpid():  # none yet, or forked
            self._spawner = _Spawner([os.path.join(d, "tasks") for d in self.dirs])
        return self._spawner


class _Spawner:
    """A thread that lives inside a v1 cgroup and runs calls (process starts) there."""

    def __init__(self, task_files: list[str]) -> None:
        self.pid = os.getpid()
        self._calls: queue.SimpleQueue[tuple[Callable[[], object], Future[object]] | None]
        self._calls = queue.SimpleQueue()
        joined: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._serve, args=(task_files, joined), name="taskgym-cgroup", daemon=True
        )
        self._thread.start()
        joined.result()

    def call(self, call: Callable[[], _T]) -> _T:
        future: Future[object] = Future()
        self._calls.put((call, future))
        return future.result()  # type: ignore[return-value]

    def stop(self) -> None:
        self._calls.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)

    def _serve(self, task_files: list[str], joined: Future[None]) -> None:
        try:
            for path in task_files:
                _write(path, str(threading.get_native_id()))
        except OSError as e:
            joined.set_exception(e)
            return
        joined.set_result(None)
        while (item := self._calls.get()) is not None:
            call, future = item
            try:
                future.set_result(call())
            except BaseException as e:
                future.set_exception(e)


def create(memory_bytes: int, pids: int | None) -> SandboxCgroup:
    """A new cgroup capped at ``memory_bytes`` (no swap) and ``pids`` tasks (None: no
    cap), v2 if it offers the memory controller, else v1. Raises CgroupUnavailable."""
    _remove_leftovers()
    while (reused := _take_idle()) is not None:
        # A few unreaped tasks of the last sandbox may still count against pids for a
        # moment; more (a fork bomb's orphans) would leave this one too few.
        if pids is not None and reused._unreaped() > max(2, pids // 16):
            reused.remove()
            continue
        try:
            reused._set_memory(int(memory_bytes))
            reused._set_pids(pids)
            _reset_peak(reused)
            reused._leased = True
            return reused
        except OSError:
            reused.remove()
    reasons = []
    for make in (_create_v2, _create_v1):
        try:
            return make(int(memory_bytes), None if pids is None else int(pids))
        except CgroupUnavailable as e:
            reasons.append(str(e))
    raise CgroupUnavailable("; ".join(reasons))


def _create_v2(memory_bytes: int, pids: int | None) -> SandboxCgroup:
    parent = _mounts().get("cgroup2")
    if parent is None:
        raise CgroupUnavailable("cgroup v2: no unified hierarchy mounted")
    offered = _read_words(os.path.join(parent, "cgroup.controllers"))
    if "memory" not in offered:
        raise CgroupUnavailable(f"cgroup v2: {parent} is not offered the memory controller")
    wanted = ["memory", *(["pids"] if pids is not None and "pids" in offered else [])]
    enabled = _read_words(os.path.join(parent, "cgroup.subtree_control"))
    missing = [c for c in wanted if c not in enabled]
    if missing:
        try:
            _write(
                os.path.join(parent, "cgroup.subtree_control"), " ".join(f"+{c}" for c in missing)
            )
        except OSError as e:  # EBUSY: a namespace's root that holds processes
            raise CgroupUnavailable(
                f"cgroup v2: cannot enable {', '.join(missing)} for the children of {parent} "
                f"({e.strerror})"
            ) from e
    _reap_dead_owners(parent)
    path = _make_dir(parent, "cgroup v2")
    try:
        _write(os.path.join(path, "memory.max"), str(memory_bytes))
        with contextlib.suppress(FileNotFoundError):  # no swap controller: no swap
            _write(os.path.join(path, "memory.swap.max"), "0")
        if "pids" in wanted:
            _write(os.path.join(path, "pids.max"), str(pids))
    except OSError as e:
        _remove_dirs([path], 0)
        raise CgroupUnavailable(f"cgroup v2: cannot set the limits of {path} ({e})") from e
    return SandboxCgroup(2, [path], memory_bytes, pids if "pids" in wanted else None)


def _create_v1(memory_bytes: int, pids: int | None) -> SandboxCgroup:
    mounts = _mounts()
    if "memory" not in mounts:
        raise CgroupUnavailable("cgroup v1: no memory hierarchy mounted")
    with_pids = pids is not None and "pids" in mounts
    parents = [mounts["memory"], *([mounts["pids"]] if with_pids else [])]
    dirs: list[str] = []
    try:
        for parent in parents:
            _reap_dead_owners(parent)
            dirs.append(_make_dir(parent, "cgroup v1", name=_name_like(dirs)))
        _write(os.path.join(dirs[0], "memory.limit_in_bytes"), str(memory_bytes))
        with contextlib.suppress(FileNotFoundError):  # swap accounting off: no swap to cap
            _write(os.path.join(dirs[0], "memory.memsw.limit_in_bytes"), str(memory_bytes))
        if with_pids:
            _write(os.path.join(dirs[1], "pids.max"), str(pids))
    except OSError as e:
        _remove_dirs(dirs, 0)
        raise CgroupUnavailable(
            f"cgroup v1: cannot set up a cgroup under {parents[0]} ({e})"
        ) from e
    except CgroupUnavailable:
        _remove_dirs(dirs, 0)
        raise
    return SandboxCgroup(1, dirs, memory_bytes, pids if with_pids else None)


def _name_like(dirs: list[str]) -> str | None:
    return os.path.basename(dirs[0]) if dirs else None


def _make_dir(parent: str, label: str, name: str | None = None) -> str:
    path = os.path.join(parent, name or f"{_PREFIX}{os.getpid()}-{secrets.token_hex(6)}")
    try:
        os.mkdir(path, 0o755)
    except OSError as e:
        raise CgroupUnavailable(f"{label}: cannot make a cgroup in {parent} ({e.strerror})") from e
    return path


@functools.lru_cache(maxsize=1)
def _mounts() -> dict[str, str]:
    """Where each hierarchy is mounted: ``cgroup2``, and each v1 controller by name."""
    found: dict[str, str] = {}
    with contextlib.suppress(OSError), open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) < 4:
                continue
            point = fields[1].replace("\\040", " ")
            if fields[2] == "cgroup2":
                found.setdefault("cgroup2", point)
            elif fields[2] == "cgroup":
                for option in fields[3].split(","):
                    found.setdefault(option, point)
    return found


def _read_words(path: str) -> list[str]:
    try:
        with open(path) as f:
            return f.read().split()
    except OSError:
        return []


def _write(path: str, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _remove_dirs(dirs: list[str], seconds: float) -> bool:
    """rmdir each (retrying while the last processes finish dying); True when all went."""
    deadline = time.monotonic() + seconds
    left = list(dirs)
    while left:
        for path in list(left):
            try:
                os.rmdir(path)
            except FileNotFoundError:
                pass
            except OSError:
                continue
            left.remove(path)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    return not left


_leftovers: list[list[str]] = []


def _remove_leftovers() -> None:
    for dirs in list(_leftovers):
        _kill_members(dirs[0])
        if _remove_dirs(dirs, 0):
            with contextlib.suppress(ValueError):
                _leftovers.remove(dirs)


@functools.lru_cache(maxsize=8)
def _reap_dead_owners(parent: str) -> None:
    """Once per place: remove the cgroups (and kill the processes) of taskgym processes
    that died without closing their sandboxes."""
    with contextlib.suppress(OSError):
        for entry in os.listdir(parent):
            if not entry.startswith(_PREFIX):
                continue
            owner = entry[len(_PREFIX) :].partition("-")[0]
            if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
                path = os.path.join(parent, entry)
                _kill_members(path)
                _remove_dirs([path], 0.5)


def _kill_members(path: str) -> None:
    with contextlib.suppress(OSError), open(os.path.join(path, "cgroup.procs")) as f:
        for line in f:
            pid = int(line)
            if pid != os.getpid():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)


_idle: list[SandboxCgroup] = []
_idle_lock = threading.Lock()
_idle_pid = os.getpid()


def _keep_idle(group: SandboxCgroup) -> bool:
    global _idle_pid  # noqa: PLW0603 - the pool belongs to one process
    with _idle_lock:
        if _idle_pid != os.getpid():  # forked: the parent's idle cgroups are the parent's
            _idle.clear()
            _idle_pid = os.getpid()
        if len(_idle) >= _MAX_IDLE:
            return False
        _idle.append(group)
        return True


def _take_idle() -> SandboxCgroup | None:
    with _idle_lock:
        if _idle_pid != os.getpid() or not _idle:
            return None
        return _idle.pop()


def _reset_peak(group: SandboxCgroup) -> None:
    if group.version == 1:
        with contextlib.suppress(OSError):
            _write(os.path.join(group.dirs[0], "memory.max_usage_in_bytes"), "0")


@atexit.register
def _remove_idle() -> None:
    while (group := _take_idle()) is not None:
        group.remove()
