"""Persistent shell sessions on every real backend."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from taskgym import SandboxClosedError
from taskgym.sandboxes import Sandbox, ShellSession
from taskgym.sandboxes.shell import _Reader, clean_terminal_text
from tests.test_sandbox_attacks import processes_running


@pytest.fixture
def sh(real_box: Sandbox) -> ShellSession:
    return real_box.shell(timeout=5)


def test_state_persists_between_commands(sh: ShellSession) -> None:
    sh.run("cd /tmp && export X=41 && Y=1 && f() { echo from-function; }")
    result = sh.run("echo $PWD $((X+Y)); f")
    assert result.output == "/tmp 42\nfrom-function\n" and result.exit_code == 0


def test_exit_status_and_stderr_come_back(sh: ShellSession) -> None:
    result = sh.run("echo out; echo err >&2; (exit 7)")
    assert result.output == "out\nerr\n" and result.exit_code == 7


def test_multi_line_scripts_and_broken_quoting_do_not_break_the_session(sh: ShellSession) -> None:
    assert sh.run("for i in 1 2\ndo\n  echo $i\ndone").output == "1\n2\n"
    broken = sh.run("echo 'unbalanced")
    assert broken.exit_code == 2 and "unexpected EOF" in broken.output
    assert sh.run("echo still fine").output == "still fine\n"


def test_a_command_cannot_read_what_the_host_sends_next(sh: ShellSession) -> None:
    result = sh.run("cat; read line; echo read=[$line]")
    assert result.output == "read=[]\n" and not result.timed_out


def test_a_fake_end_marker_in_the_output_does_not_end_the_command_early(sh: ShellSession) -> None:
    result = sh.run("echo __taskgym_done_0123456789abcdef__0; echo real end")
    assert result.output.endswith("real end\n") and "__taskgym_done_" in result.output


def test_calling_the_end_function_with_a_guessed_nonce_does_not_end_the_command(
    sh: ShellSession,
) -> None:
    result = sh.run("__tg_end 0 0; __tg_end 1 0; echo real end")
    assert result.output.endswith("real end\n") and result.exit_code == 0


def test_closing_the_stdin_descriptor_costs_one_command_then_the_session_heals(
    sh: ShellSession,
) -> None:
    sh.run("exec 63<&-")
    failed = sh.run("echo lost")
    assert failed.exit_code == 1 and "Bad file descriptor" in failed.output
    result = sh.run("cat; echo back")
    assert result.output == "back\n" and not result.timed_out


def test_every_byte_of_a_command_reaches_bash_unchanged(sh: ShellSession) -> None:
    command = "printf '%s|' \"it's\" $'tab\\there' 'ünïcödé' '$HOME' \\; ; echo"
    assert sh.run(command).output == "it's|tab\there|ünïcödé|$HOME|;|\n"


def test_time_out_interrupts_like_ctrl_c_and_keeps_the_shell(sh: ShellSession) -> None:
    sh.run("KEEP=yes")
    start = time.monotonic()
    result = sh.run("echo started; sleep 30", timeout=0.5)
    assert result.timed_out and not result.restarted and result.exit_code == 130
    assert result.output == "started\n"
    assert time.monotonic() - start < 10
    assert sh.run("echo $KEEP").output == "yes\n"


def test_time_out_interrupts_even_where_the_host_ignores_ctrl_c(real_box: Sandbox) -> None:
    """A host started with nohup, or in the background of a script, ignores SIGINT, and
    children inherit that: the shell must not, or a time-out's Ctrl-C does nothing and
    its background jobs are killed with the command."""
    code = (
        "import signal, sys\n"
        "from taskgym.sandboxes import make_sandbox\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        f"with make_sandbox({real_box.backend!r}) as box, box.shell(timeout=5) as sh:\n"
        "    sh.run('sleep 31.9 &')\n"
        "    result = sh.run('sleep 30', timeout=0.3)\n"
        "    print(result.exit_code, 'sleep 31.9' in sh.run('jobs -l').output)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.split() == ["130", "True"], done.stderr[-2000:]


def test_background_jobs_survive_an_interrupt_and_later_commands(sh: ShellSession) -> None:
    sh.run("sleep 31.7 &")
    sh.run("sleep 30", timeout=0.3)
    assert "sleep 31.7" in sh.run("jobs -l").output
    assert processes_running("sleep 31.7")


def test_a_command_that_ignores_ctrl_c_is_killed(sh: ShellSession) -> None:
    result = sh.run("trap '' INT; sh -c 'trap \"\" INT; sleep 30'", timeout=0.3)
    assert result.timed_out
    assert sh.run("echo alive").output == "alive\n"


def test_a_loop_inside_the_shell_itself_forces_a_restart_with_a_note(sh: ShellSession) -> None:
    sh.run("LOST=1")
    result = sh.run("while true; do :; done", timeout=0.3)
    assert result.timed_out and result.restarted and result.exit_code is None
    assert "a new shell was started" in result.output
    assert sh.run("echo [$LOST]").output == "[]\n"


def test_exit_restarts_the_shell_and_reports_its_status(sh: ShellSession) -> None:
    result = sh.run("echo bye; exit 3")
    assert result.restarted and result.exit_code == 3
    assert result.output.startswith("bye\n") and "the shell exited" in result.output
    assert sh.run("echo back").output == "back\n"


def test_huge_output_keeps_head_and_tail_and_marks_the_cut(real_box: Sandbox) -> None:
    with real_box.shell(output_bytes=2048) as sh:
        result = sh.run("seq 1 100000")
    assert result.truncated and result.exit_code == 0
    assert result.output.startswith("1\n2\n3\n") and result.output.endswith("99999\n100000\n")
    assert "bytes of output cut" in result.output and len(result.output) < 2300


def test_binary_and_control_characters_become_readable_text(sh: ShellSession) -> None:
    result = sh.run(r"printf 'a\xff\x1b[31mred\x1b[0m\x07\r\nb\x00c'")
    assert result.output == "a\ufffdred\\x07\nb\\x00c"


def test_background_output_after_a_command_reaches_the_next_one(sh: ShellSession) -> None:
    sh.run("(sleep 0.2; echo late) &")
    time.sleep(0.5)
    assert "late" in sh.run("echo now").output


def test_closing_the_session_or_the_sandbox_ends_everything(real_box: Sandbox) -> None:
    first = real_box.shell()
    first.run("sleep 32.1 &")
    first.close()
    first.close()
    time.sleep(0.2)
    assert processes_running("sleep 32.1") == []
    with pytest.raises(SandboxClosedError):
        first.run("echo")
    second = real_box.shell()
    second.run("sleep 32.2 &")
    real_box.close()
    time.sleep(0.2)
    assert second.closed and processes_running("sleep 32.2") == []


def test_bad_arguments_are_caller_errors(real_box: Sandbox) -> None:
    with pytest.raises(ValueError, match="timeout > 0"):
        real_box.shell(timeout=0)
    with real_box.shell() as sh, pytest.raises(TypeError, match="a shell command is a str"):
        sh.run(b"echo")  # type: ignore[arg-type]


def test_marker_split_across_reads_is_found() -> None:
    reader = _Reader(1024, b"__m__")
    for byte in b"hello\n__m__1":
        reader.feed(bytes([byte]))
    assert not reader.done  # the marker has come, but not its whole status line
    reader.feed(b"0\nextra")  # the status's end and what followed it, in one read
    assert reader.done and reader.status == 10 and reader.after_marker == b"extra"
    assert reader.result(timed_out=False).output == "hello"


def test_clean_terminal_text_drops_escapes_and_shows_controls() -> None:
    assert clean_terminal_text(b"\x1b]0;title\x07x\x1b[2Ky\rz\x1b") == "xy\nz\\x1b"
