"""The checks of a shell task, run after the episode.

Declarative checks (a list in ``task.json``; each is one check)::

    {"file_exists": "report.txt"}                   a regular file (not a link)
    {"file_missing": "logs/old.log"}                nothing there, not even a link
    {"file_equals": "count.txt", "text": "42"}      trailing newlines and spaces ignored
    {"file_matches": "app.conf", "regex": "(?m)^port = 8080$"}
    {"tree": "backup", "entries": ["site/", "site/a.txt", "site/b -> a.txt"],
     "texts": {"site/a.txt": "hello"}}              exactly these entries below a directory,
                                                    and these files' texts (as file_equals)
    {"unchanged": ["data.txt", "logs"]}             as the setup left them (content, modes,
                                                    every entry of a directory)
    {"unchanged": "www", "modes": false}            ... permissions aside
    {"command": "stat -c %a secret.txt", "output": "600"}    exit status 0 and this output
    {"command": "test -x run.sh"}                   passes when the exit status is 0
    {"file_changes": "heartbeat.txt"}               something still running rewrites it
                                                    (it changes within 1.5 s)

What the agent left can fool none of them:

- ``file_changes``, which asks whether a process the agent had to leave running is alive,
  looks first; then every process of the episode is stopped, and nothing can change the
  files while the rest run.
- Files are judged before any command runs, by taskgym itself (``Sandbox.read_file``:
  regular files only, no links) or by one walk of an isolated Python (``python3 -I -S``,
  which follows no link, not even in a path's parents, and fails on what it cannot read).
  A ``tree`` entry is ``name`` for a file, ``name/`` for a directory, ``name -> target``
  for a symbolic link, ``name [hard link]`` for a file with more than one name and
  ``name [special]`` for anything else. ``unchanged`` compares with a walk taken right
  after the setup, before the agent's first command.
- Commands and ``check.sh`` run in a fresh bash with no rc file, ``set -o pipefail``,
  the system's ``PATH``, ``HOME=/nonexistent`` (no ``.gitconfig``, ``.sqliterc``,
  ``.jq`` or Python user site of the agent's) and a ``TMPDIR`` of their own under
  ``/tmp``, removed when they end. Three tools are functions there: ``git`` reads a copy
  of the repository's objects, refs, HEAD and index with a configuration of taskgym's
  (so no hook, alias, fsmonitor, pager, attribute driver, include or other setting of
  the agent's runs or counts, and no replace ref stands in for an object), and refuses a
  ``.git`` that is a link or a file; ``sqlite3`` runs in safe mode with an untrusted
  schema (no extension or file a database names can load); ``python3`` is isolated
  (``-I``: no module of the work directory shadows the standard library). After each
  command every process is stopped again, so that a program of the agent's that a check
  ran leaves nothing behind.
- Expected outputs stay on the host: a program of the agent's that a command runs can
  read the command (``/proc``), but not what its output is compared with. (A
  ``check.sh`` is different: its text, with whatever it compares, is visible to every
  program it runs.)
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from taskgym.core import Verdict
from taskgym.errors import CheckerError, ConfigError
from taskgym.sandboxes import Sandbox
from taskgym.sandboxes.base import normalize_relative_path

__all__ = ["Baseline", "Check", "parse_checks", "run_checks", "shown", "take_baseline"]

# Each kind: (fields it needs, fields it may have).
_KINDS: dict[str, tuple[set[str], set[str]]] = {
    "file_exists": (set(), set()),
    "file_missing": (set(), set()),
    "file_equals": ({"text"}, set()),
    "file_matches": ({"regex"}, set()),
    "tree": ({"entries"}, {"texts"}),
    "unchanged": (set(), {"modes"}),
    "command": (set(), {"output"}),
    "file_changes": (set(), set()),
}
_WALKED = {"file_missing", "tree", "unchanged"}
_CHANGE_SECONDS = 1.5
_MAX_READ = 4 * 1024 * 1024
_WALK_OUTPUT_BYTES = 16 * 1024 * 1024

Baseline = dict[str, Any]
"""What :func:`take_baseline` saw of the ``unchanged`` paths: a walk per path."""


@dataclass(frozen=True)
class Check:
    kind: str
    target: str
    """A path relative to the work directory, or a command (``unchanged``: its paths,
    joined by spaces, to describe it)."""
    expected: str | None = None
    items: tuple[str, ...] = ()
    """``tree``: the entries; ``unchanged``: the paths."""
    texts: tuple[tuple[str, str], ...] = ()
    """``tree``: (entry, text) of the files whose text it compares."""
    modes: bool = True
    """``unchanged``: compare permissions too."""

    def describe(self) -> str:
        if self.expected is None:
            return f"{self.kind} {self.target}"[:300]
        return f"{self.kind} {self.target} -> {self.expected!r}"[:300]


def parse_checks(raw: Any, where: str) -> tuple[Check, ...]:
    """Checks from ``task.json``; ConfigError says which one is wrong and how."""
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: 'checks' is a list")
    return tuple(_parse_one(item, f"{where}: checks[{index}]") for index, item in enumerate(raw))


def _parse_one(item: Any, where: str) -> Check:
    kinds = [k for k in _KINDS if isinstance(item, dict) and k in item]
    if len(kinds) != 1:
        raise ConfigError(f"{where} must have exactly one of {sorted(_KINDS)}, got {item!r}")
    kind = kinds[0]
    needed, optional = _KINDS[kind]
    extra = set(item) - {kind} - needed - optional
    missing = needed - set(item)
    if extra or missing:
        raise ConfigError(
            f"{where} ({kind}) has unknown {sorted(extra)} or lacks {sorted(missing)}"
        )
    if kind == "tree":
        return _parse_tree(item, where)
    if kind == "unchanged":
        return _parse_unchanged(item, where)
    values = [item[kind], *(item[k] for k in needed | optional if k in item)]
    if not all(isinstance(v, str) for v in values) or not item[kind]:
        raise ConfigError(f"{where} ({kind}) takes strings")
    expected = next((item[k] for k in needed | optional if k in item), None)
    if kind == "file_matches":
        try:
            re.compile(expected or "")
        except re.error as e:
            raise ConfigError(f"{where}: bad regex: {e}") from e
    if kind != "command":
        _path(item[kind], where)
    return Check(kind, item[kind], expected)


def _parse_tree(item: dict[str, Any], where: str) -> Check:
    entries = item["entries"]
    if not isinstance(entries, list) or not all(isinstance(e, str) and e for e in entries):
        raise ConfigError(f"{where} (tree): 'entries' is a list of non-empty strings")
    if len(set(entries)) != len(entries):
        raise ConfigError(f"{where} (tree): an entry is listed twice")
    texts = item.get("texts", {})
    if not isinstance(texts, dict) or not all(isinstance(t, str) for t in texts.values()):
        raise ConfigError(f"{where} (tree): 'texts' maps entries to strings")
    if not all(name in entries and _path(name, where) == name for name in texts):
        raise ConfigError(f"{where} (tree): each of 'texts' is a file among the entries")
    return Check(
        "tree",
        _path(item["tree"], where),
        items=tuple(sorted(entries)),
        texts=tuple(sorted(texts.items())),
    )


def _parse_unchanged(item: dict[str, Any], where: str) -> Check:
    paths = item["unchanged"]
    paths = [paths] if isinstance(paths, str) else paths
    if not isinstance(paths, list) or not paths:
        raise ConfigError(f"{where} (unchanged): a path or a list of paths")
    modes = item.get("modes", True)
    if not isinstance(modes, bool):
        raise ConfigError(f"{where} (unchanged): 'modes' is true or false")
    normal = tuple(_path(p, where) for p in paths)
    return Check("unchanged", " ".join(normal), items=normal, modes=modes)


def _path(path: Any, where: str) -> str:
    try:
        return normalize_relative_path(path)
    except ValueError as e:
        raise ConfigError(f"{where}: {e}") from e


# -- walks of the work directory ---------------------------------------------------------

# argv[1]: JSON [[path, hash?], ...]. Prints {path: null (nothing there) | "why not" |
# {relative path: [kind, mode, detail]}}, "." being the path itself. Never follows a link,
# not in a path's parents either; what it cannot read makes the path a "why not".
_WALK = r"""
import hashlib, json, os, stat, sys
LIMIT = 20000
count = 0

def state(path, info, hashed):
    global count
    count += 1
    if count > LIMIT:
        raise OSError("more than %d entries" % LIMIT)
    mode = format(stat.S_IMODE(info.st_mode), "o")
    if stat.S_ISLNK(info.st_mode):
        return ["link", "", os.readlink(path)]
    if stat.S_ISDIR(info.st_mode):
        return ["dir", mode, ""]
    if not stat.S_ISREG(info.st_mode):
        return ["special", mode, ""]
    kind = "file" if info.st_nlink == 1 else "hard link"
    if not hashed:
        return [kind, mode, ""]
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with open(fd, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return [kind, mode, digest.hexdigest()]

def fail(error):
    raise error

def walk(root, hashed):
    parts = root.split("/")
    for depth in range(1, len(parts)):
        parent = "/".join(parts[:depth])
        try:
            if not stat.S_ISDIR(os.lstat(parent).st_mode):
                return parent + " is not a directory"
        except FileNotFoundError:
            return None
    try:
        info = os.lstat(root)
    except FileNotFoundError:
        return None
    found = {".": state(root, info, hashed)}
    if stat.S_ISDIR(info.st_mode):
        for top, dirs, files in os.walk(root, onerror=fail):
            for name in sorted(dirs + files):
                path = os.path.join(top, name)
                found[os.path.relpath(path, root)] = state(path, os.lstat(path), hashed)
    return found

out = {}
for root, hashed in json.loads(sys.argv[1]):
    try:
        out[root] = walk(root, hashed)
    except (OSError, ValueError) as e:
        out[root] = "cannot read it: %s" % (e.strerror or e,) if isinstance(e, OSError) else str(e)
print(json.dumps(out))
"""

Walk = dict[str, Any]


def _walk(sandbox: Sandbox, roots: Mapping[str, bool], seconds: float) -> Walk:
    """One walk of ``roots`` (path -> hash the files?) in the sandbox. A walk that
    fails says so for every root: those checks fail."""
    if not roots:
        return {}
    limits = sandbox.limits.replace(wall_seconds=seconds, output_bytes=_WALK_OUTPUT_BYTES)
    argv = ["python3", "-I", "-S", "-c", _WALK, json.dumps(sorted(roots.items()))]
    result = sandbox.run(argv, limits=limits)
    try:
        found = json.loads(result.out) if result.ok and not result.stdout_truncated else None
    except ValueError:
        found = None
    if not isinstance(found, dict) or set(found) != set(roots):
        why = "timed out" if result.timed_out else f"exit code {result.exit_code}"
        return dict.fromkeys(roots, f"the walk of the work directory failed ({why})")
    return found


def take_baseline(sandbox: Sandbox, checks: Sequence[Check], seconds: float) -> Baseline:
    """The state of every ``unchanged`` path, taken right after the setup (before the
    agent's first command). A path the setup did not make is a bug of the task."""
    paths = {p: True for c in checks if c.kind == "unchanged" for p in c.items}
    found = _walk(sandbox, paths, seconds)
    for path, state in found.items():
        if not isinstance(state, dict):
            raise CheckerError(f"'unchanged' path {path!r} after the setup: {state or 'missing'}")
    return found


# -- running -----------------------------------------------------------------------------

# Sent before every check command and check.sh (see the module docstring).
_PREAMBLE = r"""set -o pipefail
TMPDIR=$(mktemp -d) || exit 125
export TMPDIR
trap 'chmod -R u+rwX "$TMPDIR" 2>/dev/null; rm -rf "$TMPDIR"' EXIT
git() {
    local - dir=. part=. name copy status
    set -f
    while [ "$1" = -C ]; do
        case $2 in /*) dir=$2 ;; *) dir=$dir/$2 ;; esac
        shift 2
    done
    local IFS=/
    for name in $dir/.git; do
        part=$part/$name
        if [ -L "$part" ]; then
            echo "git (checks): $part is a symbolic link" >&2
            return 128
        fi
    done
    unset IFS
    if [ ! -d "$dir/.git" ]; then
        echo "git (checks): $dir/.git is not a repository directory" >&2
        return 128
    fi
    copy=$(mktemp -d) || return 128
    # -p: the index keeps its time, which tells git which entries to hash again.
    if (cd "$dir/.git" && cp -Rp objects refs HEAD "$copy/" &&
        for f in packed-refs index shallow; do
            if [ -e "$f" ] || [ -L "$f" ]; then cp -Rp "$f" "$copy/" || exit; fi
        done) &&
        printf '[core]\n\trepositoryformatversion = 0\n\tbare = false\n' > "$copy/config"
    then
        (cd "$dir" && exec env -i PATH="$PATH" LANG=C.UTF-8 LC_ALL=C.UTF-8 \
            HOME=/nonexistent GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null \
            GIT_ATTR_NOSYSTEM=1 GIT_NO_REPLACE_OBJECTS=1 GIT_OPTIONAL_LOCKS=0 \
            GIT_DIR="$copy" GIT_WORK_TREE=. \
            git -c core.hooksPath=/dev/null -c core.fsmonitor=false "$@")
        status=$?
    else
        status=128
    fi
    rm -rf "$copy"
    return $status
}
sqlite3() { command sqlite3 -init /dev/null -safe -cmd 'PRAGMA trusted_schema=OFF' "$@"; }
python3() { command python3 -I "$@"; }
"""
_CHECK_ENV = {"HOME": "/nonexistent", "TMPDIR": "/tmp"}


def _bash(script: str, name: str) -> list[str]:
    return ["bash", "--noprofile", "--norc", "-c", _PREAMBLE + script, name]


def run_checks(
    sandbox: Sandbox,
    checks: Sequence[Check],
    script: str,
    seconds: float,
    *,
    stop: Callable[[], None],
    baseline: Baseline | None = None,
) -> Verdict:
    """Run every check; one verdict check each (and one for the script). ``stop`` stops
    the episode's processes: called after the ``file_changes`` checks, before the rest.
    The walk, the commands and the script share ``seconds``; a command left without
    time fails unrun. ``baseline``: :func:`take_baseline`'s, for ``unchanged`` checks."""
    live = [i for i, c in enumerate(checks) if c.kind == "file_changes"]
    whys = dict(zip(live, _changes(sandbox, [checks[i].target for i in live]), strict=True))
    stop()
    # One budget for everything that runs: a command made to hang (a FIFO where a file
    # should be) costs the checks their time once, not once per check.
    deadline = time.monotonic() + seconds
    walked = _walk(sandbox, _roots(checks), seconds)
    for index, check in enumerate(checks):  # every file before any command
        if check.kind not in ("file_changes", "command"):
            whys[index] = _file_failure(sandbox, check, walked, baseline)
    for index, check in enumerate(checks):
        if check.kind == "command":
            whys[index] = _command_failure(sandbox, check.target, check.expected, deadline)
    failures = [
        {"check": i, "what": checks[i].describe(), "why": whys[i]}
        for i in range(len(checks))
        if whys[i] is not None
    ]
    total = len(checks)
    if script:
        total += 1
        why = _command_failure(sandbox, script, None, deadline)
        if why is not None:
            failures.append({"check": "check.sh", "why": why})
    return Verdict(
        parsed=True, passed=total - len(failures), total=total, details={"failures": failures}
    )


def _roots(checks: Sequence[Check]) -> dict[str, bool]:
    roots: dict[str, bool] = {}
    for check in checks:
        if check.kind == "unchanged":
            roots.update(dict.fromkeys(check.items, True))
        elif check.kind in _WALKED:
            roots.setdefault(check.target, False)
    return roots


def _command_failure(
    sandbox: Sandbox, command: str, expected: str | None, deadline: float
) -> str | None:
    """None when ``command`` exits 0 (and prints ``expected``) before ``deadline``."""
    seconds = deadline - time.monotonic()
    if seconds <= 0:
        return "not run: the checks' time was used up"
    result = sandbox.run(_bash(command, "check"), timeout=seconds, env=_CHECK_ENV)
    sandbox.stop_processes()  # a program of the agent's that the command ran
    if not result.ok:
        why = "timed out" if result.timed_out else f"exit code {result.exit_code}"
        return f"{why}: {(result.out + result.err).strip()[-300:]!r}"
    if expected is not None and result.out.strip() != expected.strip():
        return f"printed {result.out.strip()[:200]!r}"
    return None


def _file_failure(
    sandbox: Sandbox, check: Check, walked: Walk, baseline: Baseline | None
) -> str | None:
    """None when the file check holds, else why not."""
    if check.kind == "file_missing":  # nothing at all there: no file, directory or link
        found = walked[check.target]
        return None if found is None else found if isinstance(found, str) else "it exists"
    if check.kind == "tree":
        return _tree_failure(check, walked[check.target]) or _texts_failure(sandbox, check)
    if check.kind == "unchanged":
        if baseline is None:
            raise CheckerError("an 'unchanged' check without the setup's baseline")
        return _unchanged_failure(check, walked, baseline)
    return _text_failure(sandbox, check.target, check.kind, check.expected)


def _text_failure(sandbox: Sandbox, path: str, kind: str, expected: str | None) -> str | None:
    try:
        data = sandbox.read_file(path, max_bytes=_MAX_READ)
    except OSError as e:
        return f"cannot read it as a regular file: {e.strerror or e}"
    text = data.decode("utf-8", errors="replace")
    if kind == "file_equals" and text.rstrip() != (expected or "").rstrip():
        return f"it holds {text[:200]!r}"
    if kind == "file_matches" and not re.search(expected or "", text):
        return "no match"
    return None


def _tree_failure(check: Check, found: Any) -> str | None:
    if not isinstance(found, dict):
        return found or "nothing there"
    if found["."][0] != "dir":
        return "not a directory"
    listing = sorted(_entry(path, state) for path, state in found.items() if path != ".")
    if tuple(listing) == check.items:
        return None
    extra = [e for e in listing if e not in check.items]
    lacking = [e for e in check.items if e not in listing]
    return f"extra {[shown(e) for e in extra[:10]]!r}, lacking {lacking[:10]!r}"[:300]


def _texts_failure(sandbox: Sandbox, check: Check) -> str | None:
    """The texts of a tree whose entries matched: regular files, no link on the way."""
    for name, text in check.texts:
        why = _text_failure(sandbox, f"{check.target}/{name}", "file_equals", text)
        if why is not None:
            return f"{name}: {why}"
    return None


def _entry(path: str, state: list[str]) -> str:
    kind, _, detail = state
    if kind == "dir":
        return f"{path}/"
    if kind == "link":
        return f"{path} -> {detail}"
    return path if kind == "file" else f"{path} [{kind}]"


def _unchanged_failure(check: Check, walked: Walk, baseline: Baseline) -> str | None:
    for path in check.items:
        now, before = walked[path], baseline[path]
        if not isinstance(now, dict):
            return f"{path}: {now or 'gone'}"
        for name in sorted(set(now) | set(before)):
            old, new = before.get(name), now.get(name)
            if not check.modes and old is not None and new is not None:
                old, new = [old[0], old[2]], [new[0], new[2]]
            if old != new:
                where = path if name == "." else f"{path}/{name}"
                what = "is new" if old is None else "is gone" if new is None else "changed"
                return f"{shown(where)} {what}"
    return None


def shown(path: str) -> str:
    """A path as text that is always UTF-8: a name's bytes that are not (which Python
    keeps as lone surrogates) become ``\\xNN``."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _changes(sandbox: Sandbox, paths: list[str]) -> list[str | None]:
    """For each path, None when its content changed (or it appeared) within the window,
    else why not: only a process still running can do that."""
    if not paths:
        return []
    seen: list[set[bytes | None]] = [set() for _ in paths]
    deadline = time.monotonic() + _CHANGE_SECONDS
    while True:
        for states, path in zip(seen, paths, strict=True):
            states.add(_content(sandbox, path))
        if time.monotonic() >= deadline or all(len(states) > 1 for states in seen):
            break
        time.sleep(0.1)
    return [None if len(states) > 1 else f"unchanged for {_CHANGE_SECONDS} s" for states in seen]


def _content(sandbox: Sandbox, path: str) -> bytes | None:
    try:
        return sandbox.read_file(path, max_bytes=_MAX_READ)
    except OSError:
        return None
