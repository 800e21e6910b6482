"""A warm Coq: one ``coqtop`` inside the sandbox that loads a theorem's imports once and
checks proof after proof, rolled back (``BackTo``) to the state after the imports
between them. Used for whole proofs (:func:`taskgym.envs.math.proofs.check_proof`) and
for tactic mode (:mod:`taskgym.envs.math.tactics`, one tactic a turn).

How it talks: ``coqtop -emacs`` over pipes prints, after every sentence, a prompt
``<prompt>NAME < STATE |PROOFS| DEPTH < </prompt>``. What the agent's sentences print
(a notation's printing form, an ``idtac``, an axiom's type in ``Print Assumptions``) can
hold such a prompt too, so prompts alone cannot say whose output is whose. taskgym sends
its text in parts (:meth:`CoqTop.exchange`) and follows each part with a sentinel
``Fail Check taskgym_<random>.`` of its own, a fresh unguessable name a part: its
message ("The reference taskgym_<random> was not found...") and the real prompt after it
mark where that part's output ends. An agent's text cannot print a sentinel before it
runs (it does not know the name) and cannot print anything between taskgym's sentinels
when taskgym's own sentences stand between them, so callers read taskgym's parts as
whole byte strings (:func:`taskgym.envs.math.proofs` matches the check's part against
the one clean answer) and the agent's part only for errors. Coq words the message
"The variable ..." in some states (after a qualified name failed inside a proof), so
both wordings mark a sentinel; a reply whose sentinel is missing or altered (the agent's
last sentence left open swallowed it) is short of parts, and callers fail it.

Why the gate (:func:`warm_refusal`): a persistent process must not carry anything from
one proof to the next beyond what ``BackTo`` rolls back (definitions, options, loaded
libraries, notations are rolled back; load paths, ML plugins and files written are not),
and an open comment or string would swallow taskgym's own sentences. Text that could do
either (``Require``, ``Load``, ``Declare``, ``Redirect``, ``Add``, ``Set``, ``BackTo``,
``Drop``, ``Print Universes "file"``, an unclosed ``(*``...) is not failed for it: the
whole-proof checker sends it to a fresh ``coqc`` instead, and tactic mode turns the
action down. The words are matched anywhere, in comments too, and the sort ``Set`` is
one of them: a false alarm costs a slower check (or, in tactic mode, the turn), never a
wrong verdict. The kernel, not the gate, decides whether a proof holds.
"""

from __future__ import annotations

import os
import re
import secrets
import selectors
import subprocess
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from taskgym.closing import Closing
from taskgym.errors import SandboxUnavailableError
from taskgym.inside.pump import end_process, read_ready
from taskgym.sandboxes import Sandbox

__all__ = [
    "CLOSED",
    "CoqTop",
    "Part",
    "Segment",
    "coqtop_for",
    "warm_refusal",
    "warm_sessions",
]

CLOSED = "Closed under the global context"
_PROMPT_BODY = rb"<prompt>([^\s<>|]+) < (\d+) \|([^<>\n]*)\| (\d+) < </prompt>"
_PROMPT = re.compile(_PROMPT_BODY)
_INFO = re.compile(r"<infomsg>.*?</infomsg>", re.DOTALL)
_NOISE = re.compile(
    r"<infomsg>\s*\[?(?:Loading ML file|Fetching opaque proofs)[^<]*</infomsg>", re.DOTALL
)
_TAGS = re.compile(r"</?(?:infomsg|warning|prompt)>")
# Every error has a line "Error: ..."; a warning also prints "Toplevel input", so that
# header alone is not one.
_ERROR = re.compile(r"^Error:", re.MULTILINE)
# Errors after which a coqtop is not trusted again: after "Out of memory" (a proof's
# memory bomb) it answered every later proof, right ones included, the same.
_SPENT = re.compile(rb"^(?:Error: *(?:Out of memory|Stack overflow)|Anomaly)", re.MULTILINE)
# Words that reach past one proof (files, load paths, plugins, options, the undo stack)
# or that taskgym's bookkeeping of the proof state cannot follow. "Universes": Print
# Universes "FILE" writes a file.
_BEYOND_ONE_PROOF = re.compile(
    r"\b(?:Require|Import|Export|Include|Load|Declare|Redirect|Cd|Pwd|Add|Remove|BackTo|"
    r"Back|Reset|Drop|Quit|Set|Unset|Module|Section|Extraction|Extract|Separate|"
    r"Recursive|Undo|Restart|Register|Primitive|Optimize|Debug|Write|Universes)\b"
)
# Tactic mode also keeps the proof itself in taskgym's hands.
_ENDS_A_PROOF = re.compile(
    r"\b(?:Proof|Qed|Defined|Admitted|Abort|Save|Theorem|Lemma|Fact|Remark|Corollary|"
    r"Proposition|Example|Definition|Fixpoint|Goal|Focus|Unfocus|Unshelve)\b"
)
_LEXEMES = re.compile(r'\(\*|\*\)|"')
_STRING_REST = re.compile(r'(?:[^"]|"")*"')
MAX_WARM_CHARS = 32_000
"""Longer texts go to coqc: taskgym writes a batch whole before it reads, and a pipe
holds 64 KiB."""
_USES_BEFORE_RESTART = 500
"""A warm coqtop is replaced after this many proofs: its CPU-time limit counts the whole
life of the process, and memory that Coq keeps grows slowly."""


def warm_refusal(text: str, *, tactic: bool = False) -> str | None:
    """Why ``text`` may not run in a warm coqtop, or None when it may (see the module
    docstring). ``tactic``: one action of tactic mode, which may not end the proof."""
    if len(text) > MAX_WARM_CHARS:  # a larger write could fill the pipe while Coq does
        return f"more than {MAX_WARM_CHARS:,} characters"
    if not _balanced(text):
        return "an unclosed comment or string"
    found = _BEYOND_ONE_PROOF.search(text) or (_ENDS_A_PROOF.search(text) if tactic else None)
    if found:
        return f"the command {found[0]!r}"
    return None


def _balanced(text: str) -> bool:
    """Whether every ``(*`` is closed (they nest) and every string ends (``""`` inside
    one is a quote), as Coq's lexer reads them."""
    depth, i = 0, 0
    while (token := _LEXEMES.search(text, i)) is not None:
        i = token.end()
        if token[0] == '"':
            end = _STRING_REST.match(text, i)
            if end is None:
                return False
            i = end.end()
        elif token[0] == "(*":
            depth += 1
        elif depth:  # "*)" outside a comment is two tokens of a term
            depth -= 1
    return depth == 0


@dataclass(frozen=True)
class Segment:
    """What one sentence printed, and the prompt that followed it. Only taskgym's own
    text is cut into segments: an agent's output can print prompts."""

    output: str
    """What Coq printed, its markup included."""
    state: int
    """Coq's state number after the sentence: ``BackTo`` returns to it."""
    proof: str
    """The open proof's name, or ``Coq`` when none is open."""

    @property
    def error(self) -> bool:
        return bool(_ERROR.search(self.output))

    @property
    def text(self) -> str:
        """The output without Coq's informational messages (loading, fetching, hints)."""
        return _TAGS.sub("", _INFO.sub("", self.output)).strip()

    @property
    def shown(self) -> str:
        """The output with its hints ("Focus next goal with bullet -"), without markup:
        for the agent to read."""
        return _TAGS.sub("", _NOISE.sub("", self.output)).strip()


@dataclass(frozen=True)
class Part:
    """What one part of an :meth:`CoqTop.exchange` printed, up to its sentinel, and the
    state after it (read from the prompt after the sentinel, which only Coq prints)."""

    raw: bytes
    """Every sentence's output and the prompt after each, as coqtop wrote them."""
    state: int
    """Coq's state after the part: ``BackTo`` returns to it."""
    proof: str
    """The open proof's name, or ``Coq`` when none is open."""
    proofs: str
    """Every open proof's name, ``|``-separated: empty when none is open."""

    @property
    def output(self) -> str:
        return self.raw.decode("utf-8", errors="replace")

    @property
    def error(self) -> bool:
        """Whether a line of the output says ``Error:`` (which an agent's text can
        print too: that only fails the agent)."""
        return bool(_ERROR.search(self.output))

    @property
    def reply(self) -> Segment:
        """The output of a part that is one sentence: everything before the prompt that
        ends the part (a sentence's output may show agent's text, prompts included)."""
        end = self.raw.rfind(b"<prompt>")
        text = self.raw[: max(end, 0)].decode("utf-8", errors="replace")
        return Segment(output=text, state=self.state, proof=self.proof)

    def segments(self) -> list[Segment]:
        """The output cut at its prompts: exact for taskgym's own sentences, a guide
        only (for messages) where an agent's sentences may print prompts."""
        return _segments(self.raw)


def _sentinel_marker(name: str) -> re.Pattern[bytes]:
    """What a sentinel ``Fail Check NAME.`` prints, and the prompt after it. Coq breaks
    the message's lines where its printing width says: any space may be a newline."""
    words = [
        *b"The command has indeed failed with message:".split(),
        rb"The (?:reference|variable)",
        re.escape(name.encode()),
        *b"was not found in the current environment.".split(),
    ]
    return re.compile(
        rb"\s+".join(w if b"(?:" in w else re.escape(w) for w in words) + rb"\n\n" + _PROMPT_BODY
    )


class CoqTop(Closing):
    """One ``coqtop`` in ``sandbox`` with ``imports`` loaded. After a time-out, an
    overflow or a crash it is closed (:attr:`usable` turns False) and callers start
    another: nothing half-done is ever reused.

    Raises SandboxUnavailableError when the sandbox has no ``coqtop``.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        imports: str,
        *,
        seconds: float = 60.0,
        output_bytes: int = 1 << 20,
    ) -> None:
        # A long-lived process: each send has its own deadline instead of a wall limit.
        limits = sandbox.limits.replace(wall_seconds=86_400, cpu_seconds=3600, memory_bytes=4 << 30)
        self._sandbox = sandbox
        self._generation = sandbox.generation
        self._output_bytes = output_bytes
        self.uses = 0
        """Proofs checked since the start: counted each time it leaves its base state."""
        self._at_base = False
        self._spent = False
        self.timed_out = False
        """Whether the last :meth:`exchange` failed because Coq ran past its time."""
        self._proc: subprocess.Popen[bytes] | None = sandbox.start_process(
            ["coqtop", "-emacs", "-q"], limits=limits, merge_stderr=True
        )
        started = self.exchange([imports], seconds=seconds)
        if not started or started[0].error:
            said = (started[0].output if started else "")[-600:] or "no reply"
            self.close()
            if started is None:
                raise SandboxUnavailableError(
                    f"coqtop did not start in the {sandbox.backend} sandbox ({said}): "
                    "apt-get install coq"
                )
            raise ValueError(f"the imports {imports!r} do not load: {said}")
        self.base_state = started[0].state
        self._at_base = True

    @property
    def usable(self) -> bool:
        """Whether the session can take more: False once it is closed, its sandbox was
        reset, or it said "Out of memory", "Stack overflow" or "Anomaly" (the proof that
        made it still gets its verdict)."""
        return (
            self._proc is not None
            and self._proc.poll() is None
            and self._sandbox.generation == self._generation
            and not self._sandbox.closed
            and not self._spent
        )

    def exchange(self, parts: Sequence[str], *, seconds: float) -> list[Part] | None:
        """Send ``parts`` (each whole sentences), each followed by a sentinel of its own
        (see the module docstring), and return what each part printed. Fewer parts come
        back when a sentinel was not found where it belongs (text of the agent's that
        left its last sentence open swallows the sentinel after it): the parts from
        there on cannot be told apart. None, with the session closed, when Coq did not
        finish within ``seconds``, printed more than the output cap or died."""
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            return None
        self._at_base = False
        names = [f"taskgym_{secrets.token_hex(10)}" for _ in parts]
        payload = "".join(
            f"{part}\nFail Check {name}.\n" for part, name in zip(parts, names, strict=True)
        )
        try:
            proc.stdin.write(payload.encode("utf-8", errors="replace"))
            proc.stdin.flush()
        except OSError:
            self.close()
            return None
        raw = self._read_until(names[-1], time.monotonic() + seconds)
        if not isinstance(raw, bytes):
            self.timed_out = raw == "timed out"
            self.close()
            return None
        self.timed_out = False
        # The reply still counts (the proof fails); the session is not used again.
        self._spent = self._spent or _SPENT.search(raw) is not None
        return _parts(raw, names)

    def send(self, text: str, *, seconds: float) -> list[Segment] | None:
        """Send taskgym's own ``text`` (no agent's) and return one segment a sentence;
        None as for :meth:`exchange`."""
        done = self.exchange([text], seconds=seconds)
        if done is None:
            return None
        return done[0].segments() if done else []

    def back_to_base(self) -> bool:
        """Roll back to the state after the imports (nothing to do when nothing was sent
        since); False (and closed) if that failed or the session has served its time."""
        if self._at_base:
            return self.usable
        self.uses += 1
        if self.uses >= _USES_BEFORE_RESTART or self._spent:
            self.close()
            return False
        if not self.back_to(self.base_state):
            self.close()
            return False
        self._at_base = True
        return True

    def back_to(self, state: int) -> bool:
        """``BackTo state``; whether it got there. Inside a proof, coqtop prints the goals
        after the command that follows a ``BackTo``, between its output and its prompt:
        a throwaway ``Check`` takes them, so the sentinel after it stays clean."""
        done = self.exchange([f"BackTo {state}.\nCheck Prop."], seconds=10)
        if not done or done[0].error:
            return False
        # The BackTo's own prompt comes first: nothing that prints agent's text precedes.
        landed = _PROMPT.search(done[0].raw)
        return landed is not None and int(landed[2]) == state

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            end_process(proc)

    def _read_until(self, name: str, deadline: float) -> bytes | str:
        """The output up to and with the sentinel ``name``'s message and the prompt
        after it, or why it did not come."""
        proc = self._proc
        assert proc is not None
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        os.set_blocking(fd, False)
        marker, needle = _sentinel_marker(name), name.encode()
        data = bytearray()
        # The name is looked for in the new bytes only, the marker from where the name
        # first came (its message starts shortly before): linear in all.
        seen = -1
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while True:
                if seen != -1:
                    found = marker.search(data, max(0, seen - 100))
                    if found is not None:
                        return bytes(data[: found.end()])
                if time.monotonic() >= deadline:
                    return "timed out"
                if len(data) > self._output_bytes:
                    return "printed too much"
                chunk = read_ready(fd, selector, deadline)
                if chunk is None:
                    return "timed out"
                if not chunk:
                    return "exited"
                before = len(data)
                data += chunk
                if seen == -1:
                    seen = data.find(needle, max(0, before - len(needle)))


def _parts(raw: bytes, names: Sequence[str]) -> list[Part]:
    """Cut ``raw`` at the sentinels ``names``, in order; stop at the first one missing.
    Each sentinel is looked for only at its name's first appearance after the last one:
    the name appears nowhere before its sentinel runs, and a sentinel that printed
    anything else (an error that swallowed it) ends the reading."""
    parts, start = [], 0
    for name in names:
        seen = raw.find(name.encode(), start)
        found = _sentinel_marker(name).search(raw, start) if seen != -1 else None
        if found is None or not found.start() <= seen < found.end():
            break
        parts.append(
            Part(
                raw=raw[start : found.start()],
                state=int(found[2]),
                proof=found[1].decode("utf-8", errors="replace"),
                proofs=found[3].decode("utf-8", errors="replace"),
            )
        )
        start = found.end()
    return parts


def _segments(raw: bytes) -> list[Segment]:
    segments, start = [], 0
    for prompt in _PROMPT.finditer(raw):
        text = raw[start : prompt.start()].decode("utf-8", errors="replace")
        segments.append(
            Segment(
                output=text,
                state=int(prompt[2]),
                proof=prompt[1].decode("utf-8", errors="replace"),
            )
        )
        start = prompt.end()
    return segments


_SESSIONS: weakref.WeakKeyDictionary[Sandbox, dict[str, CoqTop]] = weakref.WeakKeyDictionary()
_SESSIONS_A_SANDBOX = 4
_SESSIONS_LOCK = threading.Lock()


def coqtop_for(sandbox: Sandbox, imports: str, *, seconds: float = 60.0) -> CoqTop:
    """The warm coqtop of ``sandbox`` with ``imports`` loaded, started on first use and
    again after the last one was lost or the sandbox reset. A sandbox serves one episode
    at a time: the lock guards the table, not a session."""
    with _SESSIONS_LOCK:
        sessions = _SESSIONS.setdefault(sandbox, {})
        session = sessions.pop(imports, None)
        if session is None or not session.usable:
            if session is not None:
                session.close()
            while len(sessions) >= _SESSIONS_A_SANDBOX:  # the least recently used goes
                sessions.pop(next(iter(sessions))).close()
            session = CoqTop(sandbox, imports, seconds=seconds)
        sessions[imports] = session  # most recently used last
        return session


def warm_sessions(sandbox: Sandbox) -> Sequence[CoqTop]:
    """The warm coqtops running in ``sandbox`` (for keeping it between episodes)."""
    with _SESSIONS_LOCK:
        return [s for s in _SESSIONS.get(sandbox, {}).values() if s.usable]
