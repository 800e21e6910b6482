"""The progress line (taskgym/cli/progress.py) of taskgym run, taskgym validate and the
benchmarks' rounds: drawn on a terminal (a real pseudo-terminal here), and nothing at
all on a pipe."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

import pytest

from taskgym.cli.progress import Progress

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _terminal(columns: int = 200) -> tuple[int, int]:
    """A pseudo-terminal of ``columns`` columns: (its master, its slave)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    return master, slave


def _drain(master: int) -> str:
    """What was written to the terminal so far."""
    chunks = []
    while select.select([master], [], [], 0.2)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other side closed (EIO on Linux)
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def _steps(progress: Progress, clock: Clock, count: int, seconds: float, label: str = "") -> None:
    """``count`` steps of ``seconds`` each."""
    for _ in range(count):
        clock.now += seconds
        progress.advance(label)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, TextIO]]:
    """A pseudo-terminal: its master, and a stream that writes to it."""
    monkeypatch.setenv("TERM", "xterm")
    master, slave = _terminal()
    with os.fdopen(slave, "w") as stream:
        yield master, stream
    os.close(master)


def test_on_a_terminal_it_shows_done_of_total_the_rate_and_the_time_left(
    terminal: tuple[int, TextIO],
) -> None:
    master, stream = terminal
    clock = Clock()
    progress = Progress(total=8, unit="episodes", stream=stream, clock=clock)
    _steps(progress, clock, 2, 1.5, "taskgym/ArithmeticEasy-v0")
    shown = _drain(master)
    # 2 of 8 in 3 s: 0.667/s, so 1.5 s each and 9 s left.
    assert shown.startswith("\r\x1b[K[....................]  0/8 episodes  0s so far")
    assert shown.endswith(
        "\r\x1b[K[#####...............]  2/8 episodes  1.5s each  9s left  3s so far"
        "  taskgym/ArithmeticEasy-v0"
    )
    clock.now += 60
    progress.advance("b", steps=6)
    # Done: no time left, the rate over the whole run (8 in 63 s).
    assert _drain(master).endswith("]  8/8 episodes  7.9s each  1m03s so far  b")
    progress.finish()
    assert _drain(master) == "\r\x1b[K"  # erased: the terminal is as it was


def test_redraws_are_at_most_ten_a_second_and_the_last_always_shows(
    terminal: tuple[int, TextIO],
) -> None:
    master, stream = terminal
    clock = Clock()
    progress = Progress(total=1000, stream=stream, clock=clock)
    _steps(progress, clock, 1000, 1 / 128)  # exact in binary: 13 steps first >= 0.1 s
    shown = _drain(master)
    # At the start, every 13th step (76 of them), and the last.
    assert shown.count("\r\x1b[K") == 78
    assert shown.endswith("1000/1000 episodes  128/s  8s so far")


def test_without_a_total_it_counts_and_the_line_fits_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TERM", "xterm")
    master, slave = _terminal(columns=40)
    try:
        with os.fdopen(os.dup(slave), "w") as stream:
            clock = Clock()
            progress = Progress(total=None, stream=stream, clock=clock)
            clock.now += 2
            progress.advance("taskgym/" + "Long" * 30 + "-v0")
            lines = _drain(master).split("\r\x1b[K")
        assert lines[-1].startswith("1 episodes  2s each  2s so far  task")
        assert all(len(line) <= 39 for line in lines) and lines[-1].endswith("...")
    finally:
        os.close(master)
        os.close(slave)


def test_on_a_pipe_a_file_or_a_dumb_terminal_it_writes_nothing(
    tmp_path: Path, terminal: tuple[int, TextIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    read, write = os.pipe()
    with os.fdopen(write, "w") as pipe, (tmp_path / "log").open("w") as log:
        for stream in (pipe, log):
            with Progress(total=3, stream=stream) as progress:
                for _ in range(3):
                    progress.advance("x")
    assert os.read(read, 100) == b"" and (tmp_path / "log").read_text() == ""
    os.close(read)
    monkeypatch.setenv("TERM", "dumb")
    master, stream = terminal
    with Progress(total=3, stream=stream) as progress:
        progress.advance("x")
    assert _drain(master) == ""


def _stderr_of(args: Sequence[str], on_terminal: bool) -> tuple[str, str]:
    """A command's stdout (a pipe) and its stderr: a pseudo-terminal or a pipe."""
    env = {**os.environ, "TERM": "xterm", "PYTHONPATH": str(ROOT)}
    if not on_terminal:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=300, env=env, cwd=ROOT, check=True
        )
        return done.stdout, done.stderr
    master, slave = _terminal()
    try:
        with subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=slave, text=True, env=env, cwd=ROOT
        ) as process:
            os.close(slave)
            out, _ = process.communicate(timeout=300)
            assert process.returncode == 0
        return out, _drain(master)
    finally:
        os.close(master)


TASKGYM = [sys.executable, "-m", "taskgym"]
COMMANDS = {
    "run": ([*TASKGYM, "run", "ArithmeticEasy-v0", "--episodes", "6"], "6/6 episodes"),
    "validate": ([*TASKGYM, "validate", "ArithmeticEasy-v0", "--seeds", "2"], "4/4 episodes"),
    "bench rounds": (
        [
            sys.executable,
            "-c",
            "from bench.ratios import interleaved; "
            "print(interleaved({'a': lambda: 1, 'b': lambda: 2}, calls=10, rounds=3))",
        ],
        "6/6 measures",
    ),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_commands_show_progress_on_a_terminal_and_stay_quiet_on_a_pipe(command: str) -> None:
    args, last = COMMANDS[command]
    out, shown = _stderr_of(args, on_terminal=True)
    assert f"]  {last}" in shown and shown.endswith("\r\x1b[K")
    assert "\x1b" not in out  # stdout, a pipe, has the results and no controls
    piped_out, piped_err = _stderr_of(args, on_terminal=False)
    assert piped_err == ""
    assert piped_out.split()[0] == out.split()[0]  # the same results (timings aside)


def test_a_replay_shows_its_progress_on_a_terminal(tmp_path: Path) -> None:
    run_file = tmp_path / "run.jsonl"
    _stderr_of(
        [*TASKGYM, "run", "ArithmeticEasy-v0", "--episodes", "3", "--out", str(run_file)], False
    )
    out, shown = _stderr_of([*TASKGYM, "run", "--replay", str(run_file)], on_terminal=True)
    assert "]  3/3 episodes" in shown and shown.endswith("\r\x1b[K")
    assert "3 of 3 episodes reached their recorded reward" in out
