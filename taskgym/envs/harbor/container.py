"""The container a Harbor task runs in: its own image, as that image's user (root unless
the task says), with a writable root file system, as Harbor's docker environment runs
it. A :class:`~taskgym.sandboxes.Sandbox`, so shell sessions and the env's sandbox
lifetime work as for every backend; registered as the ``harbor`` backend.

What holds the agent: no network unless the task's policy is public *and* the env was
made with ``network=True``; no capabilities but those a root user needs for files
and users (CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID);
``no-new-privileges``; the task's memory, CPUs and a process limit on the whole
container; the OCI runtime of choice (``runsc`` for gVisor).

Stopping the agent (:meth:`stop_processes`) kills the container and starts it again:
its init dies, so the kernel kills every process in its pid namespace however it
hid, and the files (the container's writable layer, ``/tmp`` included) stay.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import posixpath
import shlex
import socket
import subprocess
import tarfile
import threading
import uuid
from collections.abc import Mapping
from typing import IO

from taskgym.errors import ConfigError, SandboxError, SandboxUnavailableError
from taskgym.inside.pump import communicate, end_process
from taskgym.sandboxes.base import ExecResult, Limits, Sandbox
from taskgym.sandboxes.images import docker_command
from taskgym.sandboxes.shell import Signaller

__all__ = ["CarryTooLarge", "HarborContainer", "carry_paths", "harbor_unavailable_reason"]

# The labels of the docker backend, so that its reaper removes what a killed run left.
LABEL = "taskgym.sandbox"
OWNER_LABEL = "taskgym.owner"
_CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID")
_MARGIN_SECONDS = 15.0
# Emptied once the engine said it cannot cap a container's writable layer.
_STORAGE_OPT = [True]
# How often the watcher reads the layer's size where the engine cannot cap it: the
# engine walks the layer to tell, so not much more often.
STORAGE_POLL_SECONDS = 2.0
# Signals the descendants of a process (and the process, if asked) from inside: the
# image may have no procps, so bash reads /proc itself.
_SIGNAL_DESCENDANTS = r"""
root=$1 sig=$2 self=$3; declare -A parent
for s in /proc/[0-9]*/stat; do
  read -r line <"$s" 2>/dev/null || continue
  pid=${line%% *}; rest=${line##*) }; set -- $rest; parent[$pid]=$2
done
all="" todo=$root
while [ -n "$todo" ]; do next=""
  for p in "${!parent[@]}"; do for w in $todo; do
    [ "${parent[$p]}" = "$w" ] && next="$next $p"; done; done
  all="$all $next" todo=$next
done
[ "$self" = 1 ] && all="$root $all"
[ -n "${all// }" ] && kill -"$sig" $all 2>/dev/null; exit 0
"""


class HarborContainer(Sandbox):
    """A running container of ``image`` for one Harbor task.

    Args:
        image: the task's built image (``taskgym/harbor-<task>:<hash>``).
        workdir: where commands run and relative paths point; default the image's
            ``WORKDIR`` (``/`` when it has none).
        user: the agent's user (name or uid); default the image's ``USER``.
        env: variables every command sees (the task's ``[environment].env``).
        memory_mb, cpus, pids: limits of the whole container.
        storage_mb: the size of its writable layer: capped by the engine where it can
            (``--storage-opt size``: overlay2 on xfs with ``pquota``), elsewhere
            watched (the container is killed past it) until the grading starts.
        file_bytes: the largest file any process may write (RLIMIT_FSIZE).
        network: attach the engine's default network instead of none.
        runtime: the OCI runtime (``runc``; ``runsc`` for gVisor).
        limits: default limits of each command (its wall-clock time).
    """

    backend = "harbor"

    def __init__(
        self,
        image: str = "",
        *,
        workdir: str | None = None,
        user: str | int | None = None,
        env: Mapping[str, str] | None = None,
        memory_mb: int | None = None,
        cpus: float | None = None,
        pids: int = 1024,
        storage_mb: int | None = None,
        file_bytes: int = 1024 * 1024 * 1024,
        network: bool = False,
        runtime: str = "runc",
        limits: Limits | None = None,
    ) -> None:
        super().__init__(limits)
        if not image:
            raise ConfigError(
                "the harbor backend runs a Harbor task's own image: use taskgym/Harbor-v0"
            )
        reason = harbor_unavailable_reason()
        if reason is not None:
            raise SandboxUnavailableError(reason)
        self.image = image
        self.user = None if user is None else str(user)
        self.env = dict(env or {})
        self._options = (memory_mb, cpus, pids, network, runtime)
        self._disk = (storage_mb, file_bytes)
        self.inside_workdir = workdir or _image_workdir(image)
        self.name = ""
        self.storage_exceeded = False
        """The watcher killed the container: its files grew past ``storage_mb``."""
        self._watch: tuple[threading.Thread, threading.Event] | None = None
        self._create()

    # -- the container's life ----------------------------------------------------------

    def _create(self) -> None:
        memory_mb, cpus, pids, network, runtime = self._options
        storage_mb, file_bytes = self._disk
        self.name = f"taskgym-harbor-{uuid.uuid4().hex[:16]}"
        owner = f"{socket.gethostname()}:{os.getpid()}"
        argv = [
            docker_command(), "run", "--detach", "--init", "--name", self.name,
            "--label", f"{LABEL}=1", "--label", f"{OWNER_LABEL}={owner}",
            "--runtime", runtime, *([] if network else ["--network", "none"]),
            "--pids-limit", str(pids), "--cap-drop", "ALL",
            *(arg for cap in _CAPABILITIES for arg in ("--cap-add", cap)),
            "--security-opt", "no-new-privileges", "--workdir", self.inside_workdir,
            *(["--memory", f"{memory_mb}m", "--memory-swap", f"{memory_mb}m"] if memory_mb else []),
            *(["--cpus", f"{cpus:g}"] if cpus else []),
            "--ulimit", f"fsize={int(file_bytes)}",
            *(["--storage-opt", f"size={storage_mb}m"] if storage_mb and _STORAGE_OPT else []),
            *(arg for key, value in self.env.items() for arg in ("--env", f"{key}={value}")),
            "--entrypoint", "sleep", self.image, "infinity",
        ]  # fmt: skip
        result = _docker(argv, timeout=120)
        if result.returncode != 0 and b"--storage-opt is supported only" in result.stderr:
            # overlay2 on anything but xfs with pquota: no cap on the layer (docs/harbor.md)
            _STORAGE_OPT.clear()
            _docker([docker_command(), "rm", "--force", self.name], timeout=60)
            self._create()
            return
        if result.returncode != 0:
            _docker([docker_command(), "rm", "--force", self.name], timeout=60)
            raise SandboxError(f"the container of {self.image} did not start: {_err(result)}")
        if storage_mb and not _STORAGE_OPT:
            self._watch_storage(storage_mb * 1024 * 1024)

    def _watch_storage(self, cap_bytes: int) -> None:
        stop = threading.Event()
        name = self.name

        def watch() -> None:
            while not stop.wait(STORAGE_POLL_SECONDS):
                used = _layer_bytes(name)
                if used is not None and used > cap_bytes and not stop.is_set():
                    self.storage_exceeded = True
                    _docker([docker_command(), "kill", name], timeout=120)
                    return

        thread = threading.Thread(target=watch, name=f"storage-{name}", daemon=True)
        self._watch = (thread, stop)
        thread.start()

    def stop_watching(self) -> None:
        """No more storage checks (the grading starts: the tests may write)."""
        if self._watch is not None:
            thread, stop = self._watch
            stop.set()
            if thread is not threading.current_thread():
                thread.join(timeout=150)
            self._watch = None

    def stop_everything(self) -> None:
        """Kill every process in the container and start it again, files kept: what
        runs after this is only what the caller starts."""
        self._ensure_open()
        self.stop_watching()
        super()._stop_processes()
        for verb in ("kill", "start"):
            result = _docker([docker_command(), verb, self.name], timeout=120)
            if result.returncode != 0 and verb == "start":
                raise SandboxError(f"the container {self.name} did not restart: {_err(result)}")
        # Started is not running: an init whose program is gone exits at once.
        state = [docker_command(), "inspect", "--format", "{{.State.Running}}", self.name]
        if _docker(state, timeout=60).stdout.strip() != b"true":
            raise SandboxError(f"the container {self.name} stopped as it started again")

    def _stop_processes(self) -> None:
        super()._stop_processes()
        if not self.closed:
            self.stop_everything()

    def halt(self) -> None:
        """Kill every process and leave the container stopped, its files readable (by
        :func:`carry_paths`): the agent's final state, frozen."""
        self._ensure_open()
        self.stop_watching()
        super()._stop_processes()
        _docker([docker_command(), "kill", self.name], timeout=120)

    def changes(self) -> list[str]:
        """What changed in the container since its image, read by the engine (``docker
        diff``: ``"A /path"``, ``"C /path"``, ``"D /path"`` lines), not by any program
        of the container."""
        self._ensure_open()
        result = _docker([docker_command(), "diff", self.name], timeout=300)
        if result.returncode != 0:
            raise SandboxError(f"the changes of {self.name} cannot be read: {_err(result)}")
        return result.stdout.decode("utf-8", errors="replace").splitlines()

    def reset(self) -> None:
        """A new container of the same image: nothing of the last episode is left."""
        self._ensure_open()
        self.stop_watching()
        super()._stop_processes()
        _docker([docker_command(), "rm", "--force", self.name], timeout=120)
        self.storage_exceeded = False
        self._create()

    def _close(self) -> None:
        self.stop_watching()
        if self.name:
            _docker([docker_command(), "rm", "--force", self.name], timeout=120)

    @property
    def reset_leaves_no_trace(self) -> bool:
        return True

    @property
    def memory_cap_bytes(self) -> int | None:
        memory_mb = self._options[0]
        return None if memory_mb is None else memory_mb * 1024 * 1024

    @property
    def memory_cap_unavailable_reason(self) -> str | None:
        return None if self._options[0] else "the task sets no memory_mb"

    # -- commands ----------------------------------------------------------------------

    def exec_argv(
        self, argv: list[str], *, user: str | None = None, env: Mapping[str, str] | None = None
    ) -> list[str]:
        """The ``docker exec`` command line that runs ``argv`` in the container."""
        who = user if user is not None else self.user
        return [
            docker_command(), "exec", "--interactive", "--workdir", self.inside_workdir,
            *(["--user", who] if who is not None else []),
            *(arg for key, value in (env or {}).items() for arg in ("--env", f"{key}={value}")),
            self.name, *argv,
        ]  # fmt: skip

    def run_as(
        self,
        argv: list[str],
        *,
        user: str | None,
        seconds: float,
        env: Mapping[str, str] | None = None,
        stdin: bytes = b"",
        output_bytes: int = 1024 * 1024,
    ) -> ExecResult:
        """``argv`` as ``user`` (None: the image's), killed inside after ``seconds``."""
        self._ensure_open()
        timed = ["timeout", "--signal=KILL", f"{seconds:g}", *argv]
        proc = subprocess.Popen(
            self.exec_argv(timed, user=user, env=env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        done = communicate(proc, stdin, seconds + _MARGIN_SECONDS, output_bytes)
        timed_out = done.timed_out or done.exit_code == 137
        return ExecResult(done.exit_code, done.stdout, done.stderr, timed_out, *done[4:])

    def _run(
        self, argv: list[str], stdin: bytes, limits: Limits, env: dict[str, str]
    ) -> ExecResult:
        return self.run_as(
            argv,
            user=self.user,
            seconds=limits.wall_seconds,
            env=env,
            stdin=stdin,
            output_bytes=int(limits.output_bytes),
        )

    def _start_process(
        self, argv: list[str], limits: Limits, merge_stderr: bool
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.exec_argv(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
            start_new_session=True,
        )

    def _session_signaller(self) -> Signaller:
        def signal_descendants(pid: int, sig: int, include_root: bool) -> None:
            if self.closed:
                return
            script = ["bash", "-c", _SIGNAL_DESCENDANTS, "signal", str(pid), str(int(sig))]
            self.run_as([*script, "1" if include_root else "0"], user="0", seconds=10)

        return signal_descendants

    # -- files -------------------------------------------------------------------------

    def put_files(self, directory: str, files: Mapping[str, tuple[bytes, int]]) -> None:
        """Write ``files`` (relative path -> bytes and mode, owned by root) under the
        absolute ``directory``, which must exist."""
        self._ensure_open()
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            made: set[str] = set()
            for path, (data, mode) in sorted(files.items()):
                parts = path.split("/")
                for depth in range(1, len(parts)):
                    folder = "/".join(parts[:depth])
                    if folder not in made:
                        made.add(folder)
                        info = tarfile.TarInfo(folder)
                        info.type, info.mode = tarfile.DIRTYPE, 0o755
                        tar.addfile(info)
                info = tarfile.TarInfo(path)
                info.size, info.mode = len(data), mode
                tar.addfile(info, io.BytesIO(data))
        result = _docker(
            [docker_command(), "cp", "-", f"{self.name}:{directory}"],
            timeout=120,
            stdin=buffer.getvalue(),
        )
        if result.returncode != 0:
            raise SandboxError(f"could not copy files into {directory}: {_err(result)}")

    def read_absolute(self, path: str, max_bytes: int) -> bytes:
        """A regular file of the container (not through a link), at most ``max_bytes``:
        FileNotFoundError, PermissionError (not a regular file) or EFBIG otherwise."""
        self._ensure_open()
        proc = _tar_of(self.name, path)
        try:
            assert proc.stdout is not None
            raw = proc.stdout.read(max_bytes + 64 * 1024)
        finally:
            end_process(proc)
        try:
            with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
                member = tar.next()
                if member is None:
                    raise FileNotFoundError(path)
                if not member.isfile():
                    raise PermissionError(f"{path} is not a regular file")
                if member.size > max_bytes:
                    raise OSError(27, f"{path} is larger than {max_bytes} bytes")
                extracted = tar.extractfile(member)
                return extracted.read() if extracted is not None else b""
        except tarfile.TarError as e:
            if not raw:
                raise FileNotFoundError(path) from e
            raise OSError(27, f"{path} is larger than {max_bytes} bytes") from e

    def entries(self, path: str, *, limit: int = 100) -> list[str] | None:
        """The names under ``path`` (itself first), read by the engine rather than by
        any program of the container; None where nothing is there. At most ``limit``."""
        self._ensure_open()
        proc = _tar_of(self.name, path)
        names: list[str] = []
        try:
            assert proc.stdout is not None
            with (
                contextlib.suppress(tarfile.TarError, EOFError),
                tarfile.open(fileobj=proc.stdout, mode="r|") as tar,
            ):
                for member in tar:
                    names.append(member.name)
                    if len(names) >= limit:
                        break
        finally:
            end_process(proc)
        return names or None

    def _write(self, path: str, data: bytes, mode: int) -> None:
        self.put_files(self.inside_workdir, {path: (data, mode)})

    def _read(self, path: str, max_bytes: int) -> bytes:
        return self.read_absolute(f"{self.inside_workdir.rstrip('/')}/{path}", max_bytes)


class CarryTooLarge(Exception):
    """The agent's files to carry into a separate verifier are more than it takes."""


def carry_paths(
    source: HarborContainer, target: HarborContainer, paths: list[str], *, max_bytes: int
) -> list[str]:
    """Copy each absolute path of the (halted) ``source`` to the same place in
    ``target``, through a filter that keeps regular files, directories and links that
    stay inside what is copied (no devices, no setuid bits), as Harbor re-materialises
    a verifier's artifacts. Returns the paths that did not exist; CarryTooLarge past
    ``max_bytes`` of files in all."""
    missing = []
    budget = [max_bytes]
    for path in paths:
        reader = _tar_of(source.name, path)  # a missing path: an empty stream
        parent = os.path.dirname(path.rstrip("/")) or "/"
        target.run_as(["mkdir", "-p", parent], user="0", seconds=30)
        writer = subprocess.Popen(
            [docker_command(), "cp", "-", f"{target.name}:{parent}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            assert reader.stdout is not None
            assert writer.stdin is not None
            copied = _filter_tar(reader.stdout, writer.stdin, budget)
        finally:
            if writer.stdin is not None:
                with contextlib.suppress(OSError):
                    writer.stdin.close()
            try:
                writer.wait(timeout=300)
            except subprocess.TimeoutExpired:
                end_process(writer)
            end_process(reader)
        if not copied:
            missing.append(path)
    return missing


def _filter_tar(source: IO[bytes], sink: IO[bytes], budget: list[int]) -> bool:
    """Pass a tar stream on, member by member, without what could reach outside it;
    ``budget[0]``: the bytes of files still allowed (CarryTooLarge past it)."""
    count = 0
    with (
        contextlib.suppress(tarfile.ReadError, EOFError),
        tarfile.open(fileobj=source, mode="r|") as tar_in,
        tarfile.open(fileobj=sink, mode="w|") as tar_out,
    ):
        top = ""  # what is carried: the first member (docker cp's stream starts with it)
        for member in tar_in:
            top = top or member.name.split("/")[0]
            kept = _kept(member, top)
            if kept is None:
                continue
            budget[0] -= kept.size if kept.isfile() else 0
            if budget[0] < 0:
                raise CarryTooLarge(f"more than the bytes allowed, at {member.name}")
            data = tar_in.extractfile(member) if member.isfile() else None
            tar_out.addfile(kept, data)
            count += 1
    return count > 0


def _kept(member: tarfile.TarInfo, top: str) -> tarfile.TarInfo | None:
    """``member`` as it may be carried, or None: regular files, directories and links
    that stay inside ``top`` (what is carried), without setuid, setgid or sticky bits,
    as tarfile's ``data`` filter passes them (written out here: that filter is missing
    from older Pythons, and it lets links reach anywhere under the destination)."""
    name = posixpath.normpath(member.name)
    if name.startswith(("/", "../")) or name == ".." or name.split("/")[0] != top:
        return None
    if member.issym() or member.islnk():
        base = posixpath.dirname(name) if member.issym() else ""
        target = posixpath.normpath(posixpath.join(base, member.linkname))
        if member.linkname.startswith("/") or (target != top and not target.startswith(f"{top}/")):
            return None
    elif not (member.isfile() or member.isdir()):
        return None  # devices, fifos
    kept = copy.copy(member)  # TarInfo.replace() is missing from older Pythons
    kept.name, kept.mode = name, member.mode & 0o777
    return kept


def _tar_of(container: str, path: str) -> subprocess.Popen[bytes]:
    """``docker cp`` of ``path`` as a tar stream on the process's stdout, read by the
    engine (a missing path gives an empty stream)."""
    return subprocess.Popen(
        [docker_command(), "cp", f"{container}:{path}", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _layer_bytes(container: str) -> int | None:
    """The size of the container's writable layer, as the engine measures it (None if
    it cannot tell: the container is gone)."""
    argv = [docker_command(), "container", "inspect", "--size", "--format", "{{.SizeRw}}"]
    try:
        result = _docker([*argv, container], timeout=120)
    except SandboxError:
        return None
    text = result.stdout.decode().strip()
    return int(text) if result.returncode == 0 and text.isdigit() else None


def _image_workdir(image: str) -> str:
    result = _docker(
        [docker_command(), "image", "inspect", "--format", "{{.Config.WorkingDir}}", image],
        timeout=60,
    )
    if result.returncode != 0:
        raise SandboxUnavailableError(f"the image {image} is missing: {_err(result)}")
    return result.stdout.decode().strip() or "/"


def _docker(
    argv: list[str], *, timeout: float, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise SandboxError(f"{shlex.join(argv[:3])} took more than {timeout:g} s") from e


def _err(result: subprocess.CompletedProcess[bytes]) -> str:
    return (result.stderr or b"").decode(errors="replace").strip()[-1000:]


def harbor_unavailable_reason() -> str | None:
    """None if a Docker engine answers, else why not and what to do."""
    try:
        result = _docker(
            [docker_command(), "version", "--format", "{{.Server.APIVersion}}"], timeout=30
        )
    except (SandboxUnavailableError, SandboxError) as e:
        return str(e)
    if result.returncode != 0:
        return f"no Docker engine answers ({_err(result)[:200]}); start dockerd or set DOCKER_HOST"
    return None
