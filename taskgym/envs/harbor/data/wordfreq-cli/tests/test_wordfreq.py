"""The agent's wordfreq is judged by what it prints, never trusted with the tests' rights:
it runs as the user nobody (it cannot read /tests or write the reward: test.sh closed
both) on input files it may read, and its output is compared here."""

import ctypes
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

NOBODY = 65534
PR_SET_NO_NEW_PRIVS = 38
TEXT = """Alpha beta, gamma! alpha? BETA alpha -- don't stop; Stop.
Zeta zeta eta: it's 42 o'clock\tand   ALPHA again.
"""


def no_new_privileges():
    """In the child, before it runs the agent's code: a set-user-ID file the agent made
    as root cannot make it root again (where the container does not forbid it already)."""
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


@pytest.fixture(scope="module")
def inputs():
    """A directory for input files that nobody may read; afterwards, whatever the
    agent's command left running is killed."""
    directory = tempfile.mkdtemp()
    os.chmod(directory, 0o755)
    yield directory
    shutil.rmtree(directory)
    kill = "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass"
    as_nobody([sys.executable, "-I", "-c", kill], "/")


def as_nobody(argv, cwd):
    return subprocess.run(
        argv,
        check=False,
        capture_output=True,
        text=True,
        timeout=20,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"},
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
        preexec_fn=no_new_privileges,
    )


def write(inputs, name, text):
    path = os.path.join(inputs, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


def run(inputs, *args):
    return as_nobody(["wordfreq", *args], inputs)


def test_top_three(inputs):
    result = run(inputs, "3", write(inputs, "words.txt", TEXT))
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["4 alpha", "2 beta", "2 stop"]


def test_ties_alphabetical(inputs):
    lines = run(inputs, "7", write(inputs, "words.txt", TEXT)).stdout.splitlines()
    assert lines == ["4 alpha", "2 beta", "2 stop", "2 zeta", "1 again", "1 and", "1 clock"]


def test_fewer_words_than_asked(inputs):
    path = write(inputs, "small.txt", "one Two one")
    assert run(inputs, "10", path).stdout.splitlines() == ["2 one", "1 two"]
