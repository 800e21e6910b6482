"""What of the agent's changes reaches the programs a shared verifier runs.

In Harbor's shared mode the tests run in the agent's own container, where the agent was
root: a ``python3`` that always exits 0, an ``/etc/ld.so.preload``, a ``.pth`` file or a
``/pytest.ini`` would make the tests believe anything. The grader reads the container's
changes from the engine (``docker diff``, which no program of the container can
touch) and, where one reaches the verifier's tools, grades in a fresh container instead
(see :mod:`taskgym.envs.harbor.verify`).

What counts (:func:`tool_changes`), anywhere outside the agent's working directory and
the task's declared ``agent_may_change`` paths:

- anything added, changed or removed under the directories programs and libraries
  come from (:data:`TOOL_DIRECTORIES`);
- the dynamic loader's configuration and Debian's alternatives (:data:`TOOL_FILES`);
- Python's start-up hooks wherever they are, the working directory included (``*.pth``,
  ``sitecustomize``, ``usercustomize``: a user site under ``/root/.local`` is read
  too);
- pytest's configuration at the top of the tree (``/pytest.ini``, ``/conftest.py``,
  ``/setup.cfg``...: pytest looks for it up to ``/`` from the tests in ``/tests``).

Directories that changed only because something under them did are not changes of
their own. Anything else the agent does (its files, ``/etc`` configuration, ``/var``,
``/tmp``, users' homes) is its work and stays for the tests.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

__all__ = ["TOOL_DIRECTORIES", "TOOL_FILES", "tool_changes"]

TOOL_DIRECTORIES = (
    "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
    "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32",
    "/usr/libexec", "/usr/local/bin", "/usr/local/sbin", "/usr/local/lib",
    "/usr/local/libexec", "/etc/alternatives", "/etc/ld.so.conf.d",
)  # fmt: skip
TOOL_FILES = ("/etc/ld.so.preload", "/etc/ld.so.cache", "/etc/ld.so.conf")
_PYTHON_HOOKS = ("sitecustomize", "usercustomize")
# What pytest reads at the top of the tree (its rootdir search from /tests goes up to /).
_TOP_CONFIG = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg", "conftest.py")
# The engine's own mount points (docker run --init mounts its init there): listed as
# added in every container, and not the agent's.
_ENGINE_PATHS = ("/sbin/docker-init", "/usr/sbin/docker-init")
_MAX_REPORTED = 20


def tool_changes(diff: Iterable[str], *, workdir: str, allowed: Iterable[str] = ()) -> list[str]:
    """The paths of ``docker diff`` lines (``"A /path"``, ``"C /path"``, ``"D /path"``)
    that reach the verifier's tools, sorted, at most 20 (a path's own line is what
    counts: a line the agent forged with a newline in a file name only adds a path)."""
    paths = sorted({line[2:] for line in diff if line[:2] in ("A ", "C ", "D ")})
    # A directory is listed as changed when anything under it is: the child is what
    # counts. Sorted, a directory comes right before the first path under it.
    leaves = [p for i, p in enumerate(paths) if not _has_child(paths, i)]
    trusted = [*_ENGINE_PATHS, *(_normal(p) for p in allowed)]
    work = [_normal(workdir)] if workdir.rstrip("/") else []
    found = [
        p
        for p in leaves
        if not any(_under(p, t) for t in trusted)
        and (_is_hook(p) or (_reaches_tools(p) and not any(_under(p, w) for w in work)))
    ]
    return found[:_MAX_REPORTED]


def _has_child(paths: list[str], index: int) -> bool:
    prefix = paths[index].rstrip("/") + "/"
    # Children sort after their parent, but so may siblings such as "/usr/bin-old"
    # ("-" sorts before "/"): look on while the names still share the parent's text.
    for later in paths[index + 1 :]:
        if later.startswith(prefix):
            return True
        if not later.startswith(paths[index]):
            return False
    return False


def _is_hook(path: str) -> bool:
    """Python runs it at start-up wherever it is on a site path: it counts even in the
    working directory (which may be a home with a user site, ``/root``)."""
    name = posixpath.basename(path)
    return name.endswith(".pth") or name.split(".")[0] in _PYTHON_HOOKS


def _reaches_tools(path: str) -> bool:
    if path in TOOL_FILES or any(_under(path, d) for d in TOOL_DIRECTORIES):
        return True
    return posixpath.dirname(path) == "/" and posixpath.basename(path) in _TOP_CONFIG


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _normal(path: str) -> str:
    return "/" + posixpath.normpath(path.strip()).lstrip("/")
