"""Removing what a sandbox's user left outside its work directory: files in the places
any user may write (``/tmp``, ``/var/tmp``, ``/dev/shm``, ...), System V IPC objects and
processes, so that ``reset()`` leaves nothing of one episode for the next.

Only a user that belongs to one sandbox can be scrubbed this way (whatever it owns is
the sandbox's): a uid of the sandbox's own, as the docker backend draws for each
container and the local backend for each sandbox when taskgym runs as root.

Used on both sides: the local backend imports it on the host, and the docker backend
sends this source into its containers with the exec server's (:mod:`.exec_server`),
which calls :func:`scrub_user` as the sandbox's user (an effective uid: no process is
started, so it works even when the container's memory is full of files). It works as
root (on the host) or as the user itself, who may have taken its own permissions away
from its directories: those are opened up before they are removed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import time

# Mounts that hold no files of a user's own (kernel views and terminals).
_NOT_FILES = ("proc", "sysfs", "cgroup", "cgroup2", "devpts", "securityfs", "debugfs", "bpf")
_IPC_RMID = 0


def remove_owned(
    uid: int, roots: list[str], *, keep: frozenset[tuple[int, int]] = frozenset(), deep: bool
) -> list[str]:
    """Remove every file, directory and link that ``uid`` owns under ``roots`` (each
    directory it owns as a whole). ``deep``: look inside every directory; otherwise only
    inside those that anyone may write to (where ``uid`` can have left something).
    ``keep``: (device, inode) of directories to leave alone. Returns what stayed."""
    stayed: list[str] = []
    seen: set[tuple[int, int]] = set(keep)
    # Each root is walked on its own file system only (as find -xdev): a mount below it
    # is walked as a root of its own if it is writable, and never if it is /proc.
    pending = [(r, os.stat(r).st_dev) for r in roots if os.path.isdir(r)]
    while pending:
        folder, device = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if (info.st_dev, info.st_ino) in seen or info.st_dev != device:
                continue
            seen.add((info.st_dev, info.st_ino))
            if info.st_uid == uid:
                if not _remove(entry.path, info):
                    stayed.append(entry.path)
            elif stat.S_ISDIR(info.st_mode) and (deep or info.st_mode & stat.S_IWOTH):
                pending.append((entry.path, device))
    return stayed


def empty(folder: str) -> list[str]:
    """Remove everything inside ``folder`` whoever owns it; returns what stayed."""
    stayed = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if not _remove(entry.path, entry.stat(follow_symlinks=False)):
                    stayed.append(entry.path)
    return stayed


def remove_ipc(uid: int) -> int:
    """Remove the System V shared memory segments, semaphore sets and message queues
    ``uid`` owns or created; returns how many are left."""
    found = {kind: _ipc_ids_of(kind, uid) for kind in ("shm", "sem", "msg")}
    if not any(found.values()):
        return 0
    import ctypes  # noqa: PLC0415 - only when there is something to remove: the docker
    # server carries this module, and ctypes would make it larger for the OOM killer

    libc = ctypes.CDLL(None, use_errno=True)
    calls = {"shm": libc.shmctl, "msg": libc.msgctl}
    left = 0
    for kind, ids in found.items():
        for ipc_id in ids:
            if kind == "sem":
                done = libc.semctl(ipc_id, 0, _IPC_RMID) == 0
            else:
                done = calls[kind](ipc_id, _IPC_RMID, None) == 0
            left += not done
    return left


def kill_user(uid: int, seconds: float = 5.0) -> bool:
    """SIGKILL every process of ``uid`` (but this one) until none is left; True then."""
    deadline = time.monotonic() + seconds
    while True:
        pids = [p for p in processes_of(uid) if p != os.getpid()]
        if not pids:
            return True
        if time.monotonic() > deadline:
            return False
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.002)


def processes_of(uid: int) -> list[int]:
    """Live (not zombie) processes whose real uid is ``uid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{entry}/status", "rb") as f:
                status = f.read()
            state = status.split(b"\nState:\t", 1)[1][:1]
            real_uid = int(status.split(b"\nUid:\t", 1)[1].split()[0])
            if real_uid == uid and state != b"Z":
                found.append(int(entry))
    return found


def writable_mounts(mounts: str) -> list[str]:
    """Mount points of ``/proc/self/mounts`` text that are mounted read-write and hold
    files (not /proc, /sys and the like)."""
    points = []
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[2] in _NOT_FILES:
            continue
        point = fields[1].replace("\\040", " ")
        if point.startswith(("/proc", "/sys")) or "rw" not in fields[3].split(","):
            continue
        points.append(point)
    return points


def _ipc_ids_of(kind: str, uid: int) -> list[int]:
    try:
        with open(f"/proc/sysvipc/{kind}") as f:
            header, *rows = f.read().splitlines()
    except OSError:
        return []
    names = header.split()
    ids = []
    for row in rows:
        values = dict(zip(names, row.split(), strict=False))
        with contextlib.suppress(KeyError, ValueError):
            if str(uid) in (values["uid"], values["cuid"]):
                ids.append(int(values[names[1]]))
    return ids


def _remove(path: str, info: os.stat_result) -> bool:
    try:
        if stat.S_ISDIR(info.st_mode):
            remove_tree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def remove_tree(path: str) -> None:
    """Remove the directory ``path`` and everything below it, however deep, never
    following a link. Iterative, and by descriptor one level at a time: before Python
    3.12 ``shutil.rmtree`` and ``os.walk`` recurse, so a tree a few thousand directories
    deep (one loop of ``mkdir d; cd d``) raised RecursionError in whoever cleaned up,
    and its paths outgrow PATH_MAX. Directories are opened up (searchable and writable
    by their owner) on the way down, since a user may have taken that away. Raises
    OSError when something cannot be removed."""
    names: list[str] = []  # the path from ``path`` down to the current directory
    with contextlib.suppress(OSError, NotImplementedError):  # no lchmod on some systems
        os.chmod(path, 0o700, follow_symlinks=False)
    fd = os.open(path, _DIRECTORY)
    try:
        while True:
            child = _clear_files(fd)
            if child is not None:  # go down into it
                with contextlib.suppress(OSError):
                    os.chmod(child, 0o700, dir_fd=fd)  # a directory, and nothing runs
                down = os.open(child, _DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = down
                names.append(child)
            elif names:  # empty: go up and remove it
                up = os.open("..", _DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = up
                os.rmdir(names.pop(), dir_fd=fd)
            else:
                break
    finally:
        os.close(fd)
    os.rmdir(path)


def _clear_files(fd: int) -> str | None:
    """Unlink everything but directories in the directory open as ``fd``; the name of
    one directory left in it, or None when it is empty."""
    directory = None
    with os.scandir(fd) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                directory = entry.name
            else:
                os.unlink(entry.name, dir_fd=fd)
    return directory


def scrub_user(uid: int, folders: list[str]) -> list[str]:
    """Inside a container, as ``uid`` or root: empty ``folders``, remove what ``uid``
    owns under every other writable mount and its IPC objects. Returns what stayed."""
    with open("/proc/self/mounts") as f:
        roots = writable_mounts(f.read())
    for folder in folders:  # the user owns them and may have locked them (chmod 000)
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o755)
    stayed = [path for folder in folders for path in empty(folder)]
    stayed += remove_owned(uid, [r for r in roots if r not in folders], deep=True)
    if remove_ipc(uid):
        stayed.append("System V IPC objects")
    return stayed
