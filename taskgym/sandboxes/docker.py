"""The ``docker`` backend: one container per sandbox, for tasks that need their own OS
image (install the ``docker`` extra: ``pip install 'taskgym[docker]'``).

The container (``docker run -i --rm``):

- runs :mod:`taskgym.inside.exec_server` as its main process; every ``run()`` is one
  message on that open stream (no ``docker exec`` per command). When the stream closes
  (this process exits or dies) the server exits and ``--rm`` removes the container;
  labels and :func:`reap_orphans` catch whatever is left anyway;
- has no network (``--network none``), a read-only root, a private ``/tmp`` (tmpfs), and
  ``/work`` on a tmpfs-backed volume with a size and file-count quota (a volume, not a
  tmpfs mount, because ``put_archive`` and ``get_archive`` cannot reach tmpfs mounts);
- limits memory (``memory_bytes``, no swap), processes (``--pids-limit``) and CPUs for
  the whole container, every process in it together (``docker exec``'s shells and
  zygotes join its cgroup too), and each command's CPU, address space, file size and
  open files with rlimits;
- keeps only the SETUID, SETGID and KILL capabilities, for the server; every command,
  shell and grader runs with none, under ``no-new-privileges``, as a uid of the
  container's own (so process limits and file ownership are never shared), and
  ``--init`` reaps orphans;
- runs under the configured OCI runtime (``runc``; gVisor's ``runsc`` for a stronger
  boundary).

``reset()`` kills every process but the server, empties ``/work`` and removes what the
sandbox's uid left under any other writable mount (``/tmp``, ``/dev/shm``,
``/dev/mqueue``; the whole root if it is writable) and its System V IPC objects
(:mod:`taskgym.inside.scrub`, run by the server as that uid). Every command, shell
and zygote is the first the OOM killer takes, so a container whose memory is full
(its ``/work``, ``/tmp`` and ``/dev/shm`` are RAM too) keeps its server, and reset()
frees it.

Files move with the Docker SDK's ``put_archive``/``get_archive``; the container's life
is driven with the ``docker`` command, which the ``docker.io`` package installs with the
engine.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import errno
import functools
import io
import os
import secrets
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import uuid
from typing import Any

from taskgym.errors import (
    ConfigError,
    DependencyNotInstalledError,
    SandboxError,
    SandboxUnavailableError,
)
from taskgym.inside.wire import encode_message, read_message
from taskgym.sandboxes.base import ExecResult, Limits, Sandbox
from taskgym.sandboxes.compose import compose_source
from taskgym.sandboxes.images import SANDBOX_IMAGE, docker_command
from taskgym.sandboxes.shell import Signaller

__all__ = ["DockerSandbox", "docker_unavailable_reason", "reap_orphans"]

LABEL = "taskgym.sandbox"
OWNER_LABEL = "taskgym.owner"
# Each container's commands run as a uid of their own, drawn from this range: the
# process limit (counted per uid, host-wide) then counts only that container's
# processes, and no two sandboxes share an owner.
_UID_RANGE = (200_000, 999_999)
_SERVER_SOURCE = compose_source("wire", "pump", "scrub", "exec_server")
# docker exec's processes (shells, zygotes) are the OOM killer's first choice, as the
# server makes its commands: the server and the container's init go last.
_OOM_FIRST = ["/bin/sh", "-c", 'echo 1000 >/proc/self/oom_score_adj; exec "$@"', "sh"]
_REPLY_MARGIN_SECONDS = 10.0
_SERVER_HEADROOM = 64 * 1024 * 1024
_START_TIMEOUT_SECONDS = 120.0


class DockerSandbox(Sandbox):
    """A container of ``image`` that runs commands until closed.

    Args:
        limits: default limits for each command.
        image: the image (default ``taskgym/sandbox:latest``, made by
            ``taskgym images build``); it needs ``python3`` and ``bash``.
        runtime: the OCI runtime (``runc``, or ``runsc`` for gVisor).
        network: attach the engine's default network instead of none.
        read_only: a read-only root file system (``/work`` and ``/tmp`` stay writable).
        memory_bytes: the whole container's memory, every process in it together
            (default: twice a command's limit). ``/work``, ``/tmp`` and ``/dev/shm``
            are RAM within it: it must exceed their sizes by 64 MiB (else ConfigError).
        pids: the whole container's process limit.
        cpus: CPUs the container may use.
        disk_bytes, max_files: the quota of ``/work``.
        tmp_bytes: the size of ``/tmp``, and of ``/dev/shm``.
    """

    backend = "docker"

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        image: str = SANDBOX_IMAGE,
        runtime: str = "runc",
        network: bool = False,
        read_only: bool = True,
        memory_bytes: int | None = None,
        pids: int = 256,
        cpus: float = 1.0,
        disk_bytes: int = 512 * 1024 * 1024,
        max_files: int = 50_000,
        tmp_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        super().__init__(limits)
        self.inside_workdir = "/work"
        self._memory = _memory_cap(memory_bytes, self.limits, disk_bytes + 2 * tmp_bytes)
        reason = docker_unavailable_reason(image)
        if reason is not None:
            raise SandboxUnavailableError(reason)
        _reap_once()
        self.image = image
        self.name = f"taskgym-{uuid.uuid4().hex[:16]}"
        self.uid = secrets.randbelow(_UID_RANGE[1] - _UID_RANGE[0]) + _UID_RANGE[0]
        self._client = _client()
        self._lock = threading.Lock()
        labels = {LABEL: "1", OWNER_LABEL: _owner()}
        self._volume = self._client.volumes.create(
            name=self.name,
            driver="local",
            driver_opts={
                "type": "tmpfs",
                "device": "tmpfs",
                "o": f"size={int(disk_bytes)},nr_inodes={int(max_files)},"
                f"uid={self.uid},gid={self.uid},mode=0755",
            },
            labels=labels,
        )
        # The container's cgroup holds every process in it, those of docker exec (shells,
        # zygotes) included: one cap on them all.
        memory = self._memory
        argv = [
            docker_command(), "run", "-i", "--rm", "--name", self.name,
            *(arg for key, value in labels.items() for arg in ("--label", f"{key}={value}")),
            "--runtime", runtime,
            *([] if network else ["--network", "none"]),
            *(["--read-only"] if read_only else []),
            "--memory", str(memory), "--memory-swap", str(memory),
            "--pids-limit", str(pids), "--cpus", str(cpus),
            "--cap-drop", "ALL", "--cap-add", "SETUID", "--cap-add", "SETGID",
            "--cap-add", "KILL", "--security-opt", "no-new-privileges", "--init",
            "--tmpfs", f"/tmp:rw,nosuid,nodev,size={int(tmp_bytes)},mode=1777",
            "--shm-size", str(int(tmp_bytes)),
            "--mount", f"type=volume,src={self.name},dst=/work",
            "--workdir", "/work", "--user", "0:0",
            "--env", f"TASKGYM_SANDBOX_UID={self.uid}",
            image, "python3", "-I", "-S", "-c", _SERVER_SOURCE,
        ]  # fmt: skip
        try:
            self._server = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            ready = self._receive(time.monotonic() + _START_TIMEOUT_SECONDS)
        except BaseException as e:
            self._teardown()
            raise SandboxError(f"the docker sandbox did not start: {e}") from e
        if not ready.get("ready"):
            self._teardown()
            raise SandboxError(f"the docker sandbox's server said {ready!r}")

    # -- commands ----------------------------------------------------------------------

    def _run(
        self, argv: list[str], stdin: bytes, limits: Limits, env: dict[str, str]
    ) -> ExecResult:
        reply = self._call(
            {
                "op": "run",
                "argv": [
                    "setpriv",
                    f"--reuid={self.uid}",
                    f"--regid={self.uid}",
                    "--clear-groups",
                    *argv,
                ],  # the server runs as root (to signal and clean up); commands never do
                "stdin": base64.b64encode(stdin).decode(),
                "limits": dataclasses.asdict(limits),
                "env": env,
            },
            limits.wall_seconds,
        )
        return ExecResult.from_reply(reply)

    def _start_process(
        self, argv: list[str], limits: Limits, merge_stderr: bool
    ) -> subprocess.Popen[bytes]:
        exec_argv = [
            docker_command(), "exec", "-i", "--user", f"{self.uid}:{self.uid}",
            "--workdir", "/work", "--env", "HOME=/work", "--env", "TMPDIR=/tmp",
            "--env", "LANG=C.UTF-8", self.name,
            *_OOM_FIRST, *_rlimited(limits), *argv,
        ]  # fmt: skip
        return subprocess.Popen(
            exec_argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
            start_new_session=True,
        )

    def _session_signaller(self) -> Signaller:
        def signal_descendants(pid: int, sig: int, include_root: bool) -> None:
            if self.closed:
                return
            request = {"op": "signal_descendants", "pid": pid, "signal": int(sig)}
            self._call({**request, "include_root": include_root}, 10.0)

        return signal_descendants

    # -- files -------------------------------------------------------------------------

    def _write(self, path: str, data: bytes, mode: int) -> None:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            parts = path.split("/")
            for depth in range(1, len(parts)):
                folder = tarfile.TarInfo("/".join(parts[:depth]))
                folder.type, folder.mode = tarfile.DIRTYPE, 0o755
                folder.uid = folder.gid = self.uid
                tar.addfile(folder)
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            info.uid = info.gid = self.uid
            tar.addfile(info, io.BytesIO(data))
        if not self._client.api.put_archive(self.name, "/work", buffer.getvalue()):
            raise SandboxError(f"could not write {path} into the docker sandbox")

    def _read(self, path: str, max_bytes: int) -> bytes:
        import docker.errors  # noqa: PLC0415 - the extra is imported where used

        try:
            stream, stat = self._client.api.get_archive(self.name, f"/work/{path}")
        except docker.errors.NotFound as e:
            raise FileNotFoundError(errno.ENOENT, "no such file in the sandbox", path) from e
        if stat.get("size", 0) > max_bytes + 1024 * 1024:
            raise OSError(errno.EFBIG, f"file is larger than max_bytes={max_bytes}", path)
        raw = b"".join(stream)
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            member = tar.next()
            if member is None or not member.isfile():
                raise PermissionError(
                    errno.EACCES, "refusing to read: not a regular file (a link?)", path
                )
            if member.size > max_bytes:
                raise OSError(errno.EFBIG, f"file is larger than max_bytes={max_bytes}", path)
            extracted = tar.extractfile(member)
            return extracted.read() if extracted is not None else b""

    # -- reuse and closing -------------------------------------------------------------

    def _stop_processes(self) -> None:
        super()._stop_processes()
        if not self.closed:  # a docker exec's process outlives its client: end them inside
            self._call({"op": "kill_all_but_me"}, 10.0)

    def reset(self) -> None:
        """Stop every process but the server, empty ``/work`` and remove whatever else
        the sandbox's user left: its files under every writable mount (``/tmp``,
        ``/dev/shm``, ``/dev/mqueue``..., the whole root when it is not read-only) and
        its System V IPC objects."""
        self._ensure_open()
        self._stop_processes()
        stayed = self._call({"op": "scrub", "uid": self.uid, "empty": ["/work"]}, 30.0)["stayed"]
        if stayed:
            raise SandboxError(f"reset could not remove {stayed[:5]}")

    @property
    def memory_cap_bytes(self) -> int | None:
        return self._memory

    @property
    def memory_cap_unavailable_reason(self) -> str | None:
        return None

    @property
    def reset_leaves_no_trace(self) -> bool:
        return True

    def _close(self) -> None:
        self._teardown()

    def _teardown(self) -> None:
        server = getattr(self, "_server", None)
        if server is not None:
            with contextlib.suppress(OSError, ValueError):
                if server.stdin is not None:
                    server.stdin.close()  # the server exits; --rm removes the container
        subprocess.run(
            [docker_command(), "rm", "--force", self.name],
            capture_output=True,
            check=False,
            timeout=60,
        )
        if server is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=30)
            for pipe in (server.stdout, server.stderr):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
        _remove_volume(self._client, self.name)

    # -- the server's stream -----------------------------------------------------------

    def _call(self, message: dict[str, Any], seconds: float) -> dict[str, Any]:
        self._ensure_open()
        with self._lock:
            try:
                assert self._server.stdin is not None
                self._server.stdin.write(encode_message(message))
                self._server.stdin.flush()
                reply = self._receive(time.monotonic() + seconds + _REPLY_MARGIN_SECONDS)
            except (OSError, ValueError, TimeoutError, EOFError) as e:
                raise SandboxError(
                    f"the docker sandbox {self.name} stopped answering ({e}); its container "
                    "may have been killed (out of memory?)"
                ) from e
        if "error" in reply:
            raise SandboxError(f"the docker sandbox's server failed: {reply['error']}")
        return reply

    def _receive(self, deadline: float) -> dict[str, Any]:
        assert self._server.stdout is not None
        fd = self._server.stdout.fileno()
        os.set_blocking(fd, False)
        message = read_message(fd, deadline)
        if message is None:
            raise EOFError("the server's stream closed")
        return message


def _memory_cap(memory_bytes: int | None, limits: Limits, ram_files: int) -> int:
    """The container's memory: ``memory_bytes``, by default twice a command's limit.

    ``/work``, ``/tmp`` and ``/dev/shm`` are RAM charged to it, and files cannot be
    killed to free it: if they could fill it, the server would be the OOM killer's last
    victim and the sandbox would die instead of being reset. So the cap must leave
    ``_SERVER_HEADROOM`` above them."""
    least = ram_files + _SERVER_HEADROOM
    if memory_bytes is None:
        return max(2 * int(limits.memory_bytes), least)
    if memory_bytes < least:
        raise ConfigError(
            f"memory_bytes={memory_bytes} leaves no room above the sandbox's RAM files "
            f"(disk_bytes + 2 * tmp_bytes = {ram_files}); give it at least {least}, or "
            "lower disk_bytes and tmp_bytes"
        )
    return int(memory_bytes)


def _rlimited(limits: Limits) -> list[str]:
    cpu = int(limits.cpu_seconds)
    return [
        "prlimit",
        f"--cpu={cpu}:{cpu + 1}",
        f"--as={int(limits.memory_bytes)}",
        f"--fsize={int(limits.file_bytes)}",
        f"--nofile={int(limits.open_files)}",
        "--core=0",
        "--",
    ]


def _client() -> Any:
    try:
        import docker  # noqa: PLC0415 - heavy, and only needed by this backend
    except ImportError as e:
        raise DependencyNotInstalledError("docker", "docker") from e
    return docker.from_env(timeout=120)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _remove_volume(client: Any, name: str) -> None:
    import docker.errors  # noqa: PLC0415

    for _ in range(50):  # the volume is busy until --rm has removed the container
        try:
            client.volumes.get(name).remove(force=True)
            return
        except docker.errors.NotFound:
            return
        except docker.errors.APIError:
            time.sleep(0.1)


def reap_orphans() -> int:
    """Remove taskgym containers and volumes whose owning process (on this host) is
    gone: what a killed trainer left behind. Returns how many containers were removed."""
    import docker.errors  # noqa: PLC0415

    client = _client()
    host = socket.gethostname()
    removed = 0
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        if _orphaned(container.labels.get(OWNER_LABEL, ""), host):
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
                removed += 1
    for volume in client.volumes.list(filters={"label": LABEL}):
        if _orphaned((volume.attrs.get("Labels") or {}).get(OWNER_LABEL, ""), host):
            with contextlib.suppress(docker.errors.APIError):
                volume.remove(force=True)
    return removed


def _orphaned(owner: str, host: str) -> bool:
    owner_host, _, pid = owner.rpartition(":")
    if owner_host != host or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@functools.lru_cache(maxsize=1)
def _reap_once() -> None:
    with contextlib.suppress(Exception):  # best effort: never block a new sandbox
        reap_orphans()


@functools.lru_cache(maxsize=8)
def docker_unavailable_reason(image: str = SANDBOX_IMAGE) -> str | None:
    """None if a Docker engine answers and ``image`` exists, else why not (cached)."""
    if shutil.which("docker") is None:
        return "the docker command is not installed (Debian: apt-get install docker.io)"
    # Ask the command first: the SDK, asked with no engine listening, raises and leaves
    # its socket open.
    try:
        engine = subprocess.run(
            [docker_command(), "version", "--format", "{{.Server.APIVersion}}"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        engine = None
    if engine is None or engine.returncode != 0:
        detail = "" if engine is None else engine.stderr.strip()[:200]
        return f"no Docker engine answers ({detail}); start dockerd or set DOCKER_HOST"
    try:
        client = _client()
    except DependencyNotInstalledError as e:
        return str(e)
    try:
        client.ping()
    except Exception as e:  # the SDK raises its own error types
        return f"no Docker engine answers ({e}); start dockerd or set DOCKER_HOST"
    else:
        try:
            client.images.get(image)
        except Exception:
            return f"the image {image} is missing; build it with: taskgym images build"
    finally:
        client.close()
    return None
