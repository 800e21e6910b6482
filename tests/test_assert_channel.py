"""Assert-style grading over the tests' own channel to the candidate (the two zygotes
paired, the calls no longer relayed by the host): it grades as the relay does, and the
candidate, which now holds one end of that channel, cannot use it to pass, to hang the
grader or to reach the tests. On every real backend."""

from __future__ import annotations

import os
import socket
import time

import pytest

from taskgym.envs.code.grader import grade_assert_tests
from taskgym.sandboxes import Sandbox
from taskgym.sandboxes.zygote import pair_zygotes, paired, zygote_for

TESTS = (
    "def check(candidate):\n"
    "    assert candidate(2) == 4\n"
    "    assert candidate(-3) == 9\n"
    "    assert candidate(10) == 100\n"
)
RIGHT = "def square(x):\n    return x * x\n"
WRONG = "def square(x):\n    return x + x\n"  # right for 2 only


def grade(box: Sandbox, candidate: str, *, direct: bool = True, seconds: float = 5.0) -> bool:
    verdict = grade_assert_tests(
        box,
        candidate,
        prelude="",
        test=TESTS,
        entry_point="square",
        call="check(square)",
        seconds=seconds,
        direct=direct,
    )
    return verdict.solved


def test_direct_and_relayed_grading_agree(real_box: Sandbox) -> None:
    for candidate, expected in ((RIGHT, True), (WRONG, False), ("x = 1\n", False)):
        assert grade(real_box, candidate, direct=True) is expected
        assert grade(real_box, candidate, direct=False) is expected
    assert paired(zygote_for(real_box, "tests"), zygote_for(real_box, "candidates"))


ATTACKS = {
    "garbage on the channel": (
        "import os\nos.write(3, os.urandom(4096))\ndef square(x):\n    return x + x\n"
    ),
    "a length that lies": (
        "import os\nos.write(3, b'\\xff\\xff\\xff\\xf0' + b'{}' * 100)\n"
        "def square(x):\n    return x + x\n"
    ),
    "replies written ahead, each a value that is not plain": (
        "import json, os, struct\n"
        "body = json.dumps({'v': {'zz': 1}}).encode()\n"
        "os.write(3, (struct.pack('>I', len(body)) + body) * 3)\n"
        "def square(x):\n    return x + x\n"
    ),
    "a reply that is not a message": (
        "import json, os, struct\n"
        "body = json.dumps([1, 2, 3]).encode()\n"
        "os.write(3, struct.pack('>I', len(body)) + body)\n"
        "def square(x):\n    return x + x\n"
    ),
    "a fake report of the tests": (
        "import json, os, struct\n"
        "body = json.dumps({'passed': True}).encode()\n"
        "os.write(3, struct.pack('>I', len(body)) + body)\n"
        "os.write(1, struct.pack('>I', len(body)) + body)\n"
        "def square(x):\n    return x + x\n"
    ),
    "the channel closed": (
        "import os\nos.close(3)\nos.close(4)\ndef square(x):\n    return x + x\n"
    ),
    "the channel swapped for its own pipe": (
        "import os\nr, w = os.pipe()\nos.dup2(r, 4)\nos.dup2(w, 3)\n"
        "def square(x):\n    return x + x\n"
    ),
    "its zygote killed": (
        "import os, signal\n"
        "def square(x):\n    os.kill(os.getppid(), signal.SIGKILL)\n    return x + x\n"
    ),
    "every process it can see killed": (
        "import os, signal\n"
        "def square(x):\n"
        "    for pid in os.listdir('/proc'):\n"
        "        if pid.isdigit() and int(pid) != os.getpid():\n"
        "            try: os.kill(int(pid), signal.SIGKILL)\n"
        "            except OSError: pass\n"
        "    return x + x\n"
    ),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_an_attack_through_the_channel_earns_nothing(real_box: Sandbox, attack: str) -> None:
    assert not grade(real_box, ATTACKS[attack], seconds=3.0), attack
    # The grader is whole again: the next answer is graded right, and the zygotes are
    # paired again by the grading after (one killed may be relayed once meanwhile).
    assert grade(real_box, RIGHT)
    assert grade(real_box, RIGHT)
    assert paired(zygote_for(real_box, "tests"), zygote_for(real_box, "candidates"))


def test_a_candidate_that_answers_nothing_fails_at_the_deadline(real_box: Sandbox) -> None:
    hold = "import os, time\nos.read(4, 65536)\ntime.sleep(60)\ndef square(x):\n    return 0\n"
    start = time.monotonic()
    assert not grade(real_box, hold, seconds=2.0)
    assert time.monotonic() - start < 2.0 + 6.0  # the deadline, and the reply margin
    assert grade(real_box, RIGHT)


def test_the_candidate_finds_no_way_to_the_tests_side(real_box: Sandbox) -> None:
    """The pairing socket is gone from the work directory once the zygotes are paired,
    and no descriptor of the candidate's process is a socket (its channel is two
    pipes): it can reach nothing of the tests' side but its two ends."""
    search = (
        "import os, stat\n"
        "def square(x):\n"
        "    found = []\n"
        "    for fd in os.listdir('/proc/self/fd'):\n"
        "        try:\n"
        "            if stat.S_ISSOCK(os.fstat(int(fd)).st_mode): found.append(f'fd {fd}')\n"
        "        except OSError: pass\n"
        "    for root, dirs, files in os.walk(os.path.dirname(os.getcwd())):\n"
        "        for name in files:\n"
        "            path = os.path.join(root, name)\n"
        "            try:\n"
        "                if stat.S_ISSOCK(os.lstat(path).st_mode): found.append(path)\n"
        "            except OSError: pass\n"
        "    return x * x if not found else found\n"
    )
    reported = "def check(candidate):\n    got = candidate(3)\n    assert got == 9, got\n"
    assert grade(real_box, RIGHT)  # paired by now
    verdict = grade_assert_tests(
        real_box, search, prelude="", test=reported, entry_point="square", call="check(square)"
    )
    assert verdict.solved, verdict.details


def test_pairing_takes_only_the_connection_with_the_secret(tmp_path: object) -> None:
    """Something else in the sandbox that connects first (without the host's secret) is
    dropped; the zygote with the secret is taken."""
    from taskgym.sandboxes import make_sandbox

    with make_sandbox("local") as box:
        giver, taker = zygote_for(box, "tests"), zygote_for(box, "candidates")
        path = ".taskgym-pair-test.sock"
        with giver._lock:
            assert giver._request({"pair": {"op": "listen", "path": path}}) == {"listening": True}
        intruder = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        intruder.connect(os.path.join(box.workdir, path))  # type: ignore[attr-defined]
        intruder.sendall(b"0" * 32)
        with taker._lock:
            assert taker._request(
                {"pair": {"op": "connect", "path": path, "secret": "s" * 32}}
            ) == {"paired": True}
        with giver._lock:
            assert giver._request({"pair": {"op": "accept", "secret": "s" * 32}}) == {
                "paired": True
            }
        intruder.settimeout(5)
        assert intruder.recv(1) == b""  # dropped
        assert not os.path.exists(os.path.join(box.workdir, path))  # type: ignore[attr-defined]
        intruder.close()
        # And the real pairing works as ever.
        assert pair_zygotes(giver, taker)
        assert grade(box, RIGHT)
