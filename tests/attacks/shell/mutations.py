"""Generic mutations of a shell task's reference, played as episodes: each is what an
agent that did not do the job (or destroyed what it was given) might leave behind.

The start state (after the task's setup) and the done state (after its reference) are
read from the sandbox by the test itself; every mutation is then a list of commands an
agent could type, ending in ``submit``:

- ``nothing``: submit at once;
- ``empty``: create every file the reference creates or changes, empty (and its
  directories), without doing the job;
- ``destroy``: delete everything in the work directory, then do ``empty``;
- ``destroy-only``: delete everything (both only where the setup made something);
- ``truncate``: the reference, then every non-empty output cut to half its size (trailing
  whitespace aside);
- ``wrong:PATH``: the reference, then one output's content plausibly wrong (a digit or
  letter changed; a byte of a binary file flipped);
- ``undo:PATH``: the reference, then one of its changes undone (half the job);
- ``lose:PATH`` and ``alter:PATH``: the reference, then one input it should have kept
  deleted, or changed.

Paths inside a ``.git`` directory are a repository's internals (which commands change
in passing): they are left to the git tasks' own mutations.
"""

from __future__ import annotations

import base64
import json
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from taskgym.sandboxes import Sandbox

# Prints {path: [kind, mode, base64 content or link target]} for the work directory.
_STATE = r"""
import base64, json, os, stat
found = {}
for top, dirs, files in os.walk("."):
    dirs.sort()
    for name in sorted(files) + dirs:
        path = os.path.join(top, name)[2:]
        info = os.lstat(path)
        mode, data = stat.S_IMODE(info.st_mode), b""
        if stat.S_ISLNK(info.st_mode):
            kind, data = "l", os.fsencode(os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            kind = "d"
        elif stat.S_ISREG(info.st_mode):
            kind = "f"
            with open(path, "rb") as f:
                data = f.read()
        else:
            kind = "?"
        found[path] = [kind, mode, base64.b64encode(data).decode()]
print(json.dumps(found))
"""
# Opens every directory (a task may leave some without permissions) and deletes all.
DESTROY = "cd ~ && chmod -R u+rwX . 2>/dev/null; find . -mindepth 1 -delete"


@dataclass(frozen=True)
class Entry:
    kind: str  # "f" file, "d" directory, "l" link, "?" anything else
    mode: int
    data: bytes  # a file's content or a link's target


State = dict[str, Entry]


def read_state(box: Sandbox) -> State:
    """The work directory as the sandbox's user sees it."""
    result = box.run(["python3", "-I", "-S", "-c", _STATE], timeout=60)
    assert result.ok, result.err
    raw = json.loads(result.out)
    return {path: Entry(k, m, base64.b64decode(d)) for path, (k, m, d) in raw.items()}


def internal(path: str) -> bool:
    """A repository's internals, or the setup's git identity in HOME."""
    return ".git" in path.split("/") or path == ".gitconfig"


@dataclass(frozen=True)
class Mutation:
    name: str
    commands: tuple[str, ...]
    destructive: bool = False
    """Deletes the inputs: every check should fail, not just one."""


def _q(path: str) -> str:
    return shlex.quote(path)


def _parent(path: str) -> str:
    return f"mkdir -p {_q(path.rsplit('/', 1)[0])} && " if "/" in path else ""


def _write(path: str, data: bytes) -> str:
    encoded = base64.b64encode(data).decode()
    return f"cd ~ && {_parent(path)}printf %s {encoded} | base64 -d > {_q(path)}"


def restore(path: str, entry: Entry | None) -> str:
    """A command that puts ``path`` back as ``entry`` (None: nothing there)."""
    clear = f"cd ~ && chmod -R u+rwX {_q(path)} 2>/dev/null; rm -rf {_q(path)}"
    if entry is None:
        return clear
    if entry.kind == "d":
        return f"{clear}; mkdir -p {_q(path)} && chmod {entry.mode:o} {_q(path)}"
    if entry.kind == "l":
        return f"{clear}; {_parent(path)}ln -s {_q(entry.data.decode())} {_q(path)}"
    return f"{clear}; {_write(path, entry.data)} && chmod {entry.mode:o} {_q(path)}"


def wrong(data: bytes) -> bytes:
    """Plausibly wrong content: the last digit or letter of a text changed (9 -> 0,
    z -> a...), or a byte in the middle of a binary file flipped; an empty file gets a
    line."""
    if not data:
        return b"x\n"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\0" in text:
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]
    for i in range(len(text) - 1, -1, -1):
        c = text[i]
        if c.isascii() and c.isalnum():
            base, size = ("0", 10) if c.isdigit() else ("a" if c.islower() else "A", 26)
            bumped = chr(ord(base) + (ord(c) - ord(base) + 1) % size)
            return (text[:i] + bumped + text[i + 1 :]).encode()
    return data + b"x\n"


def _spoil(path: str, data: bytes) -> str:
    """A command that makes ``path`` (now holding ``data``) plausibly wrong."""
    if len(data) <= 4096:
        return _write(path, wrong(data))
    middle = len(data) // 2  # too long to send whole: one byte flipped in place
    flipped = data[middle] ^ 0x01
    return (
        f"cd ~ && printf '\\x{flipped:02x}' | dd of={_q(path)} bs=1 seek={middle} "
        "conv=notrunc status=none"
    )


def changes(start: State, done: State) -> list[str]:
    """Paths the reference created, changed or removed (a repository's internals aside)."""
    paths = sorted(set(start) | set(done))
    return [p for p in paths if start.get(p) != done.get(p) and not internal(p)]


def _empty_outputs(start: State, done: State) -> list[str]:
    commands = []
    for path in changes(start, done):
        entry = done.get(path)
        if entry is None or entry.kind == "l":
            continue
        if entry.kind == "d":
            commands.append(f"cd ~ && mkdir -p {_q(path)}")
        elif entry.kind == "f":
            commands.append(f"cd ~ && {_parent(path)}: > {_q(path)}")
    return commands


def mutations(start: State, done: State, reference: tuple[str, ...]) -> Iterator[Mutation]:
    """Every generic mutation that differs from doing the job (see the module)."""
    changed = changes(start, done)
    outputs = [p for p in changed if p in done and done[p].kind == "f"]
    kept = [p for p, e in start.items() if e.kind == "f" and done.get(p) == e and not internal(p)]
    yield Mutation("nothing", ("submit",))
    empty = _empty_outputs(start, done)
    if any(done[p].data for p in outputs) or any(p not in done for p in changed):
        yield Mutation("empty", (*empty, "submit"))
    if any(not internal(p) for p in start):  # inputs to destroy
        yield Mutation("destroy", (DESTROY, *empty, "submit"), destructive=True)
        yield Mutation("destroy-only", (DESTROY, "submit"), destructive=True)
    # Half of what is there before the trailing whitespace (which checks may ignore).
    halves = [
        f"cd ~ && truncate -s {len(done[p].data.rstrip()) // 2} {_q(p)}"
        for p in outputs
        if done[p].data.strip()
    ]
    if halves:
        yield Mutation("truncate", (*reference, *halves, "submit"))
    for path in outputs:
        yield Mutation(f"wrong:{path}", (*reference, _spoil(path, done[path].data), "submit"))
    for path in changed:
        yield Mutation(f"undo:{path}", (*reference, restore(path, start.get(path)), "submit"))
    for path in kept:
        yield Mutation(f"lose:{path}", (*reference, restore(path, None), "submit"))
        yield Mutation(f"alter:{path}", (*reference, _spoil(path, start[path].data), "submit"))
