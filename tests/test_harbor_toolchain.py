"""Which of the agent's changes reach a shared verifier's tools (read from ``docker
diff``); the attacks that make them are played on a real engine in
tests/attacks/harbor/test_grading.py."""

from __future__ import annotations

import pytest

from taskgym.envs.harbor.toolchain import tool_changes


def _diff(*paths: str, kind: str = "A") -> list[str]:
    """``docker diff`` lines for ``paths``, with the parent directories it lists too."""
    lines = set()
    for path in paths:
        parts = path.strip("/").split("/")
        lines.update(f"C /{'/'.join(parts[:i])}" for i in range(1, len(parts)))
        lines.add(f"{kind} {path}")
    return sorted(lines)


@pytest.mark.parametrize(
    "path",
    [
        "/usr/bin/python3",
        "/bin/bash",
        "/usr/local/bin/python3",
        "/usr/sbin/pytest",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/python3/dist-packages/_pytest/main.py",
        "/usr/local/lib/python3.11/dist-packages/zz.pth",
        "/root/.local/lib/python3.11/site-packages/usercustomize.py",
        "/home/user/.local/lib/python3.11/site-packages/x.pth",
        "/etc/python3.11/sitecustomize.py",
        "/etc/ld.so.preload",
        "/etc/ld.so.cache",
        "/etc/ld.so.conf.d/evil.conf",
        "/etc/alternatives/python",
        "/pytest.ini",
        "/conftest.py",
        "/setup.cfg",
    ],
)
@pytest.mark.parametrize("kind", ["A", "C", "D"])
def test_changes_to_the_tools_are_found(path: str, kind: str) -> None:
    assert tool_changes(_diff(path, kind=kind), workdir="/app") == [path]


@pytest.mark.parametrize(
    "path",
    [
        "/app/solution.py",
        "/app/pytest.ini",
        "/etc/nginx/nginx.conf",
        "/etc/motd",
        "/opt/tool/bin/x",
        "/var/lib/dpkg/status",
        "/tmp/x.pth.txt",
        "/root/notes.txt",
        "/data",
        "/usr/share/doc/x",
        "/usr/bin-old/x",
        "/sbin/docker-init",
        "/usr/sbin/docker-init",
    ],
)
def test_the_agents_work_is_not_a_change_of_tools(path: str) -> None:
    assert tool_changes(_diff(path), workdir="/app") == []


def test_a_directory_counts_only_for_itself() -> None:
    """docker diff lists every directory above a change as changed: only the change
    counts. An empty directory added under a tool directory counts."""
    assert tool_changes(["C /usr", "C /usr/lib", "A /usr/lib/newdir"], workdir="/") == [
        "/usr/lib/newdir"
    ]
    diff = ["C /usr", "C /usr/bin", "C /usr/bin-old", "A /usr/bin-old/x", "A /usr/bin/y"]
    assert tool_changes(diff, workdir="/") == ["/usr/bin/y"]


def test_the_working_directory_and_allowed_paths_are_the_agents() -> None:
    diff = _diff("/usr/local/bin/tool", "/usr/local/lib/app/x.py", "/usr/bin/python3")
    assert tool_changes(diff, workdir="/usr/local/lib/app") == [
        "/usr/bin/python3",
        "/usr/local/bin/tool",
    ]
    allowed = ["/usr/local/bin/tool/", "usr/bin"]
    assert tool_changes(diff, workdir="/app", allowed=allowed) == ["/usr/local/lib/app/x.py"]
    # "/" as the working directory exempts nothing.
    assert len(tool_changes(diff, workdir="/")) == 3


def test_python_hooks_count_in_the_working_directory_but_not_in_allowed_paths() -> None:
    """A working directory may be a home (``/root``) whose user site Python reads."""
    hook = "/root/.local/lib/python3.11/site-packages/x.pth"
    assert tool_changes(_diff(hook), workdir="/root") == [hook]
    assert tool_changes(_diff(hook), workdir="/root", allowed=["/root/.local"]) == []


def test_forged_lines_only_add_paths() -> None:
    """A file name with a newline in it adds a line of the agent's choosing: it can
    make the grader see a change that is not there (a fresh container for nothing),
    never hide one that is."""
    forged = "A /app/x\nD /usr/bin/python3"
    diff = ["C /app", *forged.splitlines(), "C /usr", "C /usr/bin", "A /usr/bin/evil"]
    assert tool_changes(diff, workdir="/app") == ["/usr/bin/evil", "/usr/bin/python3"]


def test_at_most_twenty_are_reported() -> None:
    diff = _diff(*(f"/usr/bin/tool{i:02}" for i in range(50)))
    assert len(tool_changes(diff, workdir="/app")) == 20
