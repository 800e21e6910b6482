"""The zygote grader on every real backend: Python semantics, limits, and attacks on the
grader itself."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from taskgym import Limits, SandboxClosedError
from taskgym.sandboxes import Sandbox
from taskgym.sandboxes.zygote import Zygote
from tests.test_sandbox_attacks import processes_running


@pytest.fixture
def zygote(real_box: Sandbox) -> Iterator[Zygote]:
    with Zygote(real_box) as z:
        yield z


def test_runs_programs_with_python_semantics(zygote: Zygote) -> None:
    assert zygote.run("print(input()[::-1])", stdin="olleh").execution.out == "hello\n"
    assert zygote.run("import sys; sys.exit(3)").execution.exit_code == 3
    assert zygote.run("raise SystemExit('bye')").execution.err == "bye\n"
    crashed = zygote.run("def f():\n    raise ValueError('boom')\nf()").execution
    assert crashed.exit_code == 1 and "ValueError: boom" in crashed.err
    assert "Traceback" in crashed.err
    assert zygote.run("import atexit; atexit.register(print, 'at exit')").execution.out == (
        "at exit\n"
    )
    assert zygote.run("print(__name__)").execution.out == "__main__\n"


def test_limits_apply_to_each_program(zygote: Zygote) -> None:
    looping = zygote.run("while True: pass", limits=Limits(wall_seconds=0.5)).execution
    assert looping.timed_out and not looping.ok
    hungry = zygote.run(
        "x = bytearray(2 * 1024**3)", limits=Limits(memory_bytes=256 * 1024**2)
    ).execution
    assert "MemoryError" in hungry.err
    chatty = zygote.run("print('x' * 10**6)", limits=Limits(output_bytes=1000)).execution
    assert len(chatty.stdout) == 1000 and chatty.stdout_truncated
    assert zygote.run("print('fine')").execution.out == "fine\n"  # the zygote lives on


def test_value_channel_is_fd_3_only_when_asked_for(zygote: Zygote) -> None:
    result = zygote.run("import os; os.write(3, b'[1, 2]'); print('out')", channel=True)
    assert result.channel == b"[1, 2]" and result.execution.out == "out\n"
    without = zygote.run("import os; os.write(3, b'x')")
    assert without.channel == b"" and "Bad file descriptor" in without.execution.err


def test_a_program_cannot_reach_the_control_channel(zygote: Zygote) -> None:
    forge = (
        "import os, json, struct\n"
        "fake = json.dumps({'exit_code': 0, 'stdout': '', 'stderr': '', 'channel': 'WA==',\n"
        "    'timed_out': False, 'stdout_truncated': False, 'stderr_truncated': False,\n"
        "    'channel_truncated': False}).encode()\n"
        "msg = struct.pack('>I', len(fake)) + fake\n"
        "hits = []\n"
        "for fd in range(4, 256):\n"
        "    try: os.write(fd, msg); hits.append(fd)\n"
        "    except OSError: pass\n"
        "for fd in range(0, 32):\n"
        "    try:\n"
        "        with open(f'/proc/{os.getppid()}/fd/{fd}', 'wb') as f: f.write(msg)\n"
        "        hits.append(('proc', fd))\n"
        "    except OSError: pass\n"
        "print(hits)\n"
        "raise SystemExit(5)\n"
    )
    result = zygote.run(forge, channel=True)
    assert result.execution.out == "[]\n" and result.execution.exit_code == 5
    assert result.channel == b""
    assert zygote.run("print('next')").execution.out == "next\n"


def test_a_program_that_kills_the_zygote_only_fails_itself(zygote: Zygote) -> None:
    result = zygote.run("import os, signal; os.kill(os.getppid(), signal.SIGKILL)")
    assert result.lost and not result.execution.ok
    assert zygote.run("print('restarted')").execution.out == "restarted\n"


def test_each_program_starts_in_an_empty_directory(zygote: Zygote) -> None:
    zygote.run("open('planted.txt', 'w').write('x')")
    assert zygote.run("import os; print(os.listdir('.'))").execution.out == "[]\n"


def test_background_children_die_with_the_program(zygote: Zygote) -> None:
    zygote.run("import subprocess; subprocess.Popen(['sleep', '33.3'])")
    time.sleep(0.2)
    assert processes_running("sleep 33.3") == []


def test_a_daemon_that_leaves_its_group_is_swept_in_bwrap(real_box: Sandbox) -> None:
    if real_box.backend != "bwrap":
        pytest.skip("only a sandbox with its own pid namespace can sweep daemons")
    with Zygote(real_box) as zygote:
        zygote.run("import subprocess; subprocess.Popen(['setsid', 'sleep', '33.4'])")
        time.sleep(0.2)
        assert processes_running("sleep 33.4") == []
        assert zygote.run("print('ok')").execution.out == "ok\n"


def test_preloaded_modules_are_already_imported(real_box: Sandbox) -> None:
    with Zygote(real_box, preload=["json", "fractions"]) as zygote:
        code = "import sys; print('fractions' in sys.modules)"
        assert zygote.run(code).execution.out == "True\n"


def test_close_is_idempotent_and_final(real_box: Sandbox) -> None:
    zygote = Zygote(real_box)
    zygote.close()
    zygote.close()
    with pytest.raises(SandboxClosedError):
        zygote.run("print(1)")


def test_a_missing_interpreter_is_a_clear_sandbox_error(real_box: Sandbox) -> None:
    from taskgym import SandboxError

    with pytest.raises(SandboxError, match="the zygote did not start"):
        Zygote(real_box, python="no-such-python")


# -- sessions: a program that talks with the host while it runs ---------------------------

ECHO = (
    "import json, os, struct\n"
    "def read():\n"
    "    head = os.read(0, 4)\n"
    "    return json.loads(os.read(0, struct.unpack('>I', head)[0])) if head else None\n"
    "def write(m):\n"
    "    body = json.dumps(m).encode()\n"
    "    os.write(1, struct.pack('>I', len(body)) + body)\n"
    "while (m := read()) is not None:\n"
    "    if m.get('do'):\n"
    "        exec(m['do'])\n"
    "    write(m)\n"
)


def soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


def test_a_session_carries_messages_both_ways(zygote: Zygote) -> None:
    with zygote.session(ECHO) as session:
        for value in (1, "two", [3]):
            assert session.exchange({"v": value}, soon()) == ({"v": value}, "")
        assert session.exchange({"v": 0}, None) == (None, "")  # sent without waiting
        assert session.exchange(None, soon()) == ({"v": 0}, "")


SESSION_ATTACKS = {
    "a length of 4 GiB": "os.write(1, b'\\xff\\xff\\xff\\xff')",
    "bytes that are not JSON": "os.write(1, b'\\x00\\x00\\x00\\x03abc')",
    "a list, not a message": "os.write(1, b'\\x00\\x00\\x00\\x02[]')",
    "killing the zygote": "import signal; os.kill(os.getppid(), signal.SIGKILL)",
    "never answering": "import time; time.sleep(60)",
    "exiting at once": "os._exit(0)",
    "closing its pipes": "os.close(0); os.close(1)",
}


@pytest.mark.parametrize("attack", SESSION_ATTACKS)
def test_a_session_program_cannot_break_the_zygote(zygote: Zygote, attack: str) -> None:
    with zygote.session(ECHO) as session:
        message, why = session.exchange({"do": SESSION_ATTACKS[attack]}, soon(1.0))
        assert message is None or message == {"do": SESSION_ATTACKS[attack]}, message
        if message is not None:  # it answered first: the next message shows the damage
            message, why = session.exchange(None, soon(1.0))
        assert message is None and why
    assert zygote.run("print('still here')").execution.out == "still here\n"
    with zygote.session(ECHO) as session:
        assert session.exchange({"v": 1}, soon()) == ({"v": 1}, "")


def test_a_caller_that_fails_inside_a_session_leaves_the_zygote_usable(zygote: Zygote) -> None:
    def caller_with_a_bug() -> None:
        with zygote.session(ECHO) as session:
            session.exchange({"v": 1}, None)  # sent, never read: the zygote holds a reply
            raise KeyError("the caller's own bug")

    with pytest.raises(KeyError):
        caller_with_a_bug()
    assert zygote.run("print('in step')").execution.out == "in step\n"
