"""The agent's stats.py is judged by what it returns, never trusted with the tests' rights:
each call loads a copy of it in a child Python run as the user nobody (it cannot read
/tests or write the reward: test.sh closed both), which prints the result as JSON; the
comparison happens here."""

import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

NOBODY = 65534
PR_SET_NO_NEW_PRIVS = 38


def no_new_privileges():
    """In the child, before it runs the agent's code: a set-user-ID file the agent made
    as root cannot make it root again (where the container does not forbid it already)."""
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


# Loads stats.py from argv[1], calls the function named on stdin with the list given
# there, and prints the result and the list as it is afterwards, as the last line.
CALL = """
import importlib.util, json, sys
name, values = json.loads(sys.stdin.read())
spec = importlib.util.spec_from_file_location("stats", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
result = getattr(module, name)(values)
print(json.dumps({"result": result, "values": values}, default=float))
"""


@pytest.fixture(scope="module")
def stats():
    """A copy of /app/stats.py that nobody may read; afterwards, whatever the agent's
    code left running is killed."""
    directory = tempfile.mkdtemp()
    os.chmod(directory, 0o755)
    copy = os.path.join(directory, "stats.py")
    shutil.copyfile("/app/stats.py", copy)
    os.chmod(copy, 0o644)
    yield copy
    shutil.rmtree(directory)
    kill = "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass"
    as_nobody([sys.executable, "-I", "-c", kill], "", "/")


def as_nobody(argv, stdin, cwd):
    return subprocess.run(
        argv,
        check=False,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"},
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
        preexec_fn=no_new_privileges,
    )


def call(stats, name, values):
    """``name(values)`` of the agent's module: its result and the list afterwards."""
    ran = as_nobody(
        [sys.executable, "-I", "-c", CALL, stats],
        json.dumps([name, values]),
        os.path.dirname(stats),
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    lines = ran.stdout.splitlines()
    assert lines, "stats.py printed nothing"
    output = json.loads(lines[-1])
    result = output["result"]
    assert type(result) in (int, float), f"{name} returned {result!r}, not a number"
    return result, output["values"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [([3], 3), ([5, 1, 3], 3), ([4, 1, 3, 2], 2.5), ([-2, 7], 2.5), ([1.5, 0.5, 9, 2, 2], 2)],
)
def test_median(stats, values, expected):
    assert call(stats, "median", list(values))[0] == expected


def test_input_is_not_changed(stats):
    assert call(stats, "median", [9, 1, 5, 3])[1] == [9, 1, 5, 3]


def test_other_functions_kept(stats):
    assert call(stats, "mean", [1, 2, 3, 6])[0] == 3
    assert call(stats, "spread", [4, -1, 10])[0] == 11
