"""A candidate that looks for the hidden tests on disk finds nothing: bwrap hides taskgym's
package (and any path given in ``hide``) where it lies under a bound system directory."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskgym.sandboxes import make_sandbox

from .conftest import require_backend

FIND = """
import os, sys
hits = []
for root, dirs, files in os.walk(sys.argv[1], onerror=lambda e: None):
    for name in files:
        try:
            with open(os.path.join(root, name), errors="replace") as f:
                if "MARKER" in f.read():
                    hits.append(os.path.join(root, name))
        except OSError:
            pass
print(hits)
"""


@pytest.fixture
def planted() -> Iterator[tuple[Path, str]]:
    """A copy of a task file with a marker, planted under /usr as a system-wide install
    would put it (root only, removed afterwards)."""
    place = Path("/usr/local/share") / f"taskgym-test-{uuid.uuid4().hex[:8]}"
    try:
        (place / "data").mkdir(parents=True)
    except PermissionError:
        pytest.skip("planting a file under /usr needs root")
    marker = f"hidden-{uuid.uuid4().hex}"
    (place / "data" / "functions.jsonl").write_text(f'{{"expected": "{marker}"}}\n')
    yield place, marker
    shutil.rmtree(place)


def search(box_hide: list[str], where: Path, marker: str) -> str:
    with make_sandbox("bwrap", hide=box_hide) as box:
        program = FIND.replace("MARKER", marker)
        return box.run(["python3", "-I", "-c", program, str(where)]).out


def test_a_task_file_under_usr_is_found_unless_hidden(planted: tuple[Path, str]) -> None:
    require_backend("bwrap")
    place, marker = planted
    assert "functions.jsonl" in search([], place, marker)  # the attack works on an open view
    assert search([str(place)], place, marker).strip() == "[]"
    assert search([str(place / "data" / "functions.jsonl")], place, marker).strip() == "[]"


def test_taskgym_itself_is_always_hidden_when_under_a_system_directory() -> None:
    require_backend("bwrap")
    from taskgym.sandboxes.bwrap import BwrapSandbox, _paths_to_hide

    assert _paths_to_hide(["/usr/lib/python3/dist-packages/nothing-here"]) == []
    assert _paths_to_hide(["/usr/share"]) == ["--tmpfs", "/usr/share", "--remount-ro", "/usr/share"]
    assert _paths_to_hide(["/home/someone/tasks.jsonl", "/work/x"]) == []  # never bound
    with make_sandbox("bwrap") as box:
        assert isinstance(box, BwrapSandbox)
        package = str(Path(__file__).resolve().parents[1] / "taskgym")
        assert box.hidden == _paths_to_hide([package])


def test_a_hidden_directory_cannot_be_written_to(planted: tuple[Path, str]) -> None:
    require_backend("bwrap")
    place, _ = planted
    with make_sandbox("bwrap", hide=[str(place)]) as box:
        result = box.run(["sh", "-c", f"echo x > {place}/new"])
        assert result.exit_code != 0
