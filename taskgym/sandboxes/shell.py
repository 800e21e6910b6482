"""Persistent shell sessions: one bash inside the sandbox that keeps its state (current
directory, variables, functions, background jobs) from one command to the next.

How a command travels: the host sends one complete line,
``eval $'<the command, every byte escaped>' <&63;__tg_end <nonce> $?``, so an
unbalanced quote or a multi-line script can never leave bash waiting for more input, and
a command cannot read the lines that follow it (its stdin is ``/dev/null``, kept open on
fd 63). ``__tg_end``, defined when the shell starts, prints a marker with the
nonce (a random secret of the session and the command's number) and the exit status.

Why the line is so short: bash reads a pipe one byte at a time, and a shell builtin's
step is mostly bash's own work. Against ``eval ... </dev/null 2>&1; printf '<marker>%d'
$?`` (an ``open`` of ``/dev/null`` and two redirections a step, and a line twice as
long) this took an ``echo`` step from 0.14-0.15 ms to 0.065-0.10 ms
(bench/shell_step.py). Stderr joins stdout once, when the shell starts. Output is
read from pipes (not a pty: a round trip costs microseconds, and a pty would have to be
the sandbox's controlling terminal).

A command that outlives its time-out gets what Ctrl-C would give it: SIGINT to every
process the shell started (background jobs ignore it, as in a terminal). If that does not
end it, SIGKILL; if the shell itself is lost, a new one starts, and the result says that
the state was reset.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import secrets
import select
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from taskgym.closing import Closing
from taskgym.errors import SandboxClosedError, SandboxError
from taskgym.inside.pump import end_process

__all__ = ["ShellResult", "ShellSession", "clean_terminal_text"]

Spawner = Callable[[list[str]], "subprocess.Popen[bytes]"]
# Signals every descendant of the process whose pid (as the sandbox sees it) is given,
# and the process itself when the flag says so.
Signaller = Callable[[int, signal.Signals, bool], None]

# env resets Ctrl-C and Ctrl-\ to their defaults first: a host process that ignores them
# (started with nohup, or in the background of a script) would pass that on to bash and
# to every command, and a time-out's Ctrl-C would then do nothing.
_SHELL_ARGV = ["env", "--default-signal=INT,QUIT", "bash", "--noprofile", "--norc"]
# Sent once, before the ready probe. A command that closes fd 63 fails its own step with
# "Bad file descriptor"; the end function then opens it again for the next one.
_SHELL_SETUP = (
    "exec 2>&1 63</dev/null; "
    '__tg_end() { builtin echo $\'\\n\'__taskgym_done_"$1"__"$2"; '
    "[[ $2 == 0 ]] || { : <&63; } 2>/dev/null || exec 63</dev/null; }; "
)
_INTERRUPT_GRACE_SECONDS = 1.0
_RESTART_NOTE = "[taskgym: {why}; a new shell was started, so the working directory, variables and background jobs were reset]"  # noqa: E501
_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_PLAIN_TEXT = re.compile(rb"[\t\n\x20-\x7e]*").fullmatch
_PLAIN_WORD = re.compile(r"[a-zA-Z0-9 .,_+=/:@%-]*").fullmatch
# How each byte is written inside a $'...' word: itself when plainly safe, else \xNN.
_QUOTED_BYTE = {b: chr(b) if _PLAIN_WORD(chr(b)) else f"\\x{b:02x}" for b in range(256)}


@dataclass(frozen=True)
class ShellResult:
    """What one command printed (stdout and stderr together, as on a terminal)."""

    output: str
    exit_code: int | None
    """The command's exit status; None when the shell was lost before reporting one."""
    timed_out: bool = False
    truncated: bool = False
    """The middle of the output was cut (the head and the tail are kept, and marked)."""
    restarted: bool = False
    """The shell was replaced: earlier state (cwd, variables, jobs) is gone."""


def clean_terminal_text(data: bytes) -> str:
    """Bytes a terminal program printed, as text an agent can read: invalid UTF-8
    replaced, ANSI escape sequences dropped, carriage returns turned into newlines and
    other control characters shown as ``\\xNN``."""
    if _PLAIN_TEXT(data):  # the common case: printable ASCII, tabs and newlines
        return data.decode("ascii")
    text = data.decode("utf-8", errors="replace")
    text = _ANSI_ESCAPE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class ShellSession(Closing):
    """A bash that lives inside a sandbox until closed. Not thread-safe.

    Made by :meth:`taskgym.sandboxes.Sandbox.shell`; use it as a context manager or call
    :meth:`close`.

    Examples:
        >>> from taskgym.sandboxes import make_sandbox
        >>> with make_sandbox("local") as box, box.shell() as sh:
        ...     _ = sh.run("cd /tmp && X=1")
        ...     sh.run("echo $PWD $X").output
        '/tmp 1\\n'
    """

    def __init__(
        self,
        spawn: Spawner,
        *,
        timeout: float = 10.0,
        output_bytes: int = 64 * 1024,
        signal_descendants: Signaller | None = None,
    ) -> None:
        if timeout <= 0 or output_bytes < 256:
            raise ValueError("a shell session needs timeout > 0 and output_bytes >= 256")
        self._spawn = spawn
        self._signal_descendants = signal_descendants
        self._shell_pid = 0  # as the shell sees itself ($$), set by _start
        self.timeout = timeout
        self.output_bytes = output_bytes
        self._closed = False
        self._after_marker = b""
        # A command never sees its marker, nor can it read an earlier one (markers go to
        # the host's pipe only), so a secret per session and a count make it unguessable.
        self._nonce_prefix = secrets.token_hex(6)
        self._steps = 0
        self._output = _Output(-1)
        self._proc = self._start()

    # -- the public API ----------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def run(self, command: str, *, timeout: float | None = None) -> ShellResult:
        """Run ``command`` (any bash text, several lines allowed) and return its output."""
        if self._closed:
            raise SandboxClosedError("this shell session is closed; open another with shell()")
        if not isinstance(command, str):
            raise TypeError(f"a shell command is a str, got {type(command).__name__}")
        self._steps += 1
        nonce = f"{self._nonce_prefix}{self._steps:x}"
        marker = f"__taskgym_done_{nonce}__"
        line = f"eval {_ansi_c_quote(command)} <&63;__tg_end {nonce} $?\n"
        reader = _Reader(self.output_bytes, marker.encode())
        if self._after_marker:
            reader.feed(self._after_marker)
            self._after_marker = b""
        if not self._send(line.encode()):
            return self._restarted(reader, "the shell had exited")
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        if reader.read_until_marker(self._output, deadline):
            self._after_marker = reader.after_marker
            return reader.result(timed_out=False)
        if reader.eof:
            return self._restarted(reader, "the shell exited")
        # Time is up: Ctrl-C, then SIGKILL, to what the shell runs; then a new shell.
        for sig in (signal.SIGINT, signal.SIGKILL):
            self._signal_commands(sig)
            if reader.read_until_marker(self._output, time.monotonic() + _INTERRUPT_GRACE_SECONDS):
                self._after_marker = reader.after_marker
                return reader.result(timed_out=True)
        return self._restarted(reader, "the command could not be stopped", timed_out=True)

    def close(self) -> None:
        """End the shell and everything it started. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._stop()

    # -- the shell process -------------------------------------------------------------

    def _start(self) -> subprocess.Popen[bytes]:
        proc = self._spawn(list(_SHELL_ARGV))
        assert proc.stdin is not None
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        self._output = _Output(proc.stdout.fileno())
        # One round trip proves the shell is up, and tells its pid in its own namespace.
        probe_marker = f"__taskgym_ready_{secrets.token_hex(8)}__"
        proc.stdin.write(f"{_SHELL_SETUP}printf '{probe_marker}%d\\n' $$\n".encode())
        proc.stdin.flush()
        reader = _Reader(4096, probe_marker.encode())
        if not reader.read_until_marker(self._output, time.monotonic() + 30):
            _kill_session(proc)
            raise SandboxError(
                "the sandbox's shell did not start: "
                f"{reader.result(timed_out=False).output[:300]!r} (is bash installed?)"
            )
        self._shell_pid = reader.status or 0
        return proc

    def _stop(self) -> None:
        if self._signal_descendants is not None and self._shell_pid:
            # The host end of the pipes may be a client (docker exec) whose death does not
            # reach the shell: end the shell and its jobs where they run.
            with contextlib.suppress(SandboxError):
                self._signal_descendants(self._shell_pid, signal.SIGKILL, True)
        _kill_session(self._proc)

    def _send(self, data: bytes) -> bool:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(data)
            self._proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            return False
        return True

    def _restarted(self, reader: _Reader, why: str, *, timed_out: bool = False) -> ShellResult:
        exit_code: int | None = None
        if reader.eof:  # the shell ended by itself (``exit 3``): report its status
            with contextlib.suppress(subprocess.TimeoutExpired):
                exit_code = self._proc.wait(timeout=_INTERRUPT_GRACE_SECONDS)
        self._stop()
        self._proc = self._start()
        partial = reader.result(timed_out=timed_out)
        note = _RESTART_NOTE.format(why=why)
        separator = "\n" if partial.output and not partial.output.endswith("\n") else ""
        return ShellResult(
            output=partial.output + separator + note + "\n",
            exit_code=exit_code,
            timed_out=timed_out,
            truncated=partial.truncated,
            restarted=True,
        )

    def _signal_commands(self, sig: signal.Signals) -> None:
        """Signal every process the shell started (not the shell itself): through the
        backend when it knows how, else through the host's /proc, which sees into the
        pid namespaces of local and bwrap sandboxes."""
        if self._signal_descendants is not None:
            self._signal_descendants(self._shell_pid, sig, False)
            return
        children = _children_by_parent()
        shell = _find_shell(self._proc.pid, children)
        if shell is None:
            return
        for pid in _descendants(shell, children):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)


class _Output:
    """The shell's non-blocking output pipe. It waits before it reads: output is rarely
    there the moment a command is sent, and a read that fails first costs a system call
    and an exception each step."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._poll = select.poll()
        if fd >= 0:
            self._poll.register(fd, select.POLLIN)

    def read(self, deadline: float) -> bytes | None:
        """The next bytes (``b""`` at the end), or None once ``deadline`` has passed."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if self._poll.poll(math.ceil(remaining * 1000)):
                try:
                    return os.read(self.fd, 65536)
                except BlockingIOError:
                    continue


class _Reader:
    """Collects a command's output up to its marker, keeping a bounded head and tail.

    The last few bytes are held back until the next chunk shows whether they begin the
    marker, so a marker split across reads is found and never reaches the output.
    """

    def __init__(self, cap: int, marker: bytes) -> None:
        self.half = cap // 2
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.held = b""
        self.marker = marker
        self.hold = len(marker) + 24  # the marker, a status and the newlines around them
        self.status: int | None = None
        self.done = False
        self.eof = False
        self.after_marker = b""
        """Bytes that arrived after the marker (a background job's output): they belong
        to the next command's output."""

    def read_until_marker(self, output: _Output, deadline: float) -> bool:
        """Read the shell's output until the marker arrives (True), the deadline passes
        or the stream ends (False)."""
        while not self.done:
            if self.eof:
                return False
            chunk = output.read(deadline)
            if chunk is None:
                return False
            if not chunk:
                self.eof = True
                self._append(self.held)
                self.held = b""
                return False
            self.feed(chunk)
        return True

    def feed(self, chunk: bytes) -> None:
        pending = self.held + chunk
        start = pending.find(self.marker)
        end = -1 if start == -1 else pending.find(b"\n", start + len(self.marker))
        if end != -1:
            status = pending[start + len(self.marker) : end]
            self.status = int(status) if status.lstrip(b"-").isdigit() else None
            cut = start - 1 if start > 0 and pending[start - 1 : start] == b"\n" else start
            self._append(pending[:cut])
            self.after_marker = pending[end + 1 :]
            self.held = b""
            self.done = True
            return
        if start != -1:  # the marker has come, its status not yet: hold it all
            self._append(pending[: max(start - 1, 0)])
            self.held = pending[max(start - 1, 0) :]
            return
        self._append(pending[: -self.hold])
        self.held = pending[-self.hold :]

    def _append(self, data: bytes) -> None:
        self.total += len(data)
        room = self.half - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            del self.tail[: max(len(self.tail) - self.half, 0)]

    def result(self, *, timed_out: bool) -> ShellResult:
        head, tail = bytes(self.head), bytes(self.tail) + self.held
        cut = self.total + len(self.held) - len(head) - len(tail)
        if cut <= 0:
            return ShellResult(clean_terminal_text(head + tail), self.status, timed_out)
        text = (
            clean_terminal_text(head)
            + f"\n[... {cut} bytes of output cut ...]\n"
            + clean_terminal_text(tail)
        )
        return ShellResult(text, self.status, timed_out, truncated=True)


def _ansi_c_quote(command: str) -> str:
    """``command`` as a bash $'...' word: every byte that is not plainly safe escaped,
    so the word is complete whatever the command holds."""
    if _PLAIN_WORD(command):
        return f"$'{command}'"
    data = command.encode("utf-8", "surrogatepass")
    return "$'" + data.decode("latin-1").translate(_QUOTED_BYTE) + "'"


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def _find_shell(root: int, children: dict[int, list[int]]) -> int | None:
    """The bash process at or below ``root`` (bubblewrap puts two processes above it)."""
    queue = [root]
    while queue:
        pid = queue.pop(0)
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "bash":
                    return pid
        except OSError:
            pass
        queue.extend(children.get(pid, []))
    return None


def _descendants(pid: int, children: dict[int, list[int]]) -> list[int]:
    found, stack = [], list(children.get(pid, []))
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(children.get(child, []))
    return found


def _kill_session(proc: subprocess.Popen[bytes]) -> None:
    end_process(proc, wait_seconds=None)
