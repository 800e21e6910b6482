"""A progress line on stderr for long runs: episodes (or rounds) done of the total, the
rate, the time left, and what is under way, redrawn in place.

It draws only when its stream is a terminal (and ``TERM`` is not ``dumb``): piped or
redirected to a file, a run's stderr holds its messages and nothing else. Redraws are
at most ten a second, so a loop of quick steps pays next to nothing for it, and the
line is cut to the terminal's width, since a line that wraps cannot be redrawn in
place. :meth:`Progress.finish` erases it, leaving the terminal as the command's own
output left it.

    with Progress(total=40, unit="episodes") as progress:
        for record in played:
            progress.advance(record.env_id)
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TextIO, TypeVar

__all__ = ["Progress", "format_seconds"]

_REDRAW_SECONDS = 0.1
_BAR_WIDTH = 20
_ERASE = "\r\x1b[K"  # to the line's start, then clear to its end
T = TypeVar("T")


class Progress:
    """The progress of ``total`` steps (None when the total is not known beforehand)."""

    def __init__(
        self,
        total: int | None,
        *,
        unit: str = "episodes",
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.unit, self.done = total, unit, 0
        self.stream = sys.stderr if stream is None else stream
        self.enabled = _is_terminal(self.stream)
        self._clock = clock
        self._started = clock()
        self._drawn_at: float | None = None
        self._label = ""
        if self.enabled:  # at once, so that a slow first step shows the run has begun
            self._drawn_at = self._started
            self._write(_ERASE + self._fit(self.line(self._started)))

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.finish()

    def advance(self, label: str = "", steps: int = 1) -> None:
        """``steps`` more are done; ``label`` says what (an env id, a candidate)."""
        self.done += steps
        self._label = label
        if not self.enabled:
            return
        now = self._clock()
        last = self.done == self.total
        if last or self._drawn_at is None or now - self._drawn_at >= _REDRAW_SECONDS:
            self._drawn_at = now
            self._write(_ERASE + self._fit(self.line(now)))

    def count(self, steps: Iterable[T], label: str = "") -> Iterator[T]:
        """``steps`` as they come, each advancing the progress."""
        for step in steps:
            yield step
            self.advance(label)

    def drop(self, steps: int) -> None:
        """``steps`` of the total will not run after all (an env skipped)."""
        if self.total is not None:
            self.total = max(self.total - steps, self.done)

    def line(self, now: float | None = None) -> str:
        """The progress as one line of text (without the terminal's controls)."""
        elapsed = (self._clock() if now is None else now) - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        parts = []
        if self.total:
            filled = min(_BAR_WIDTH, _BAR_WIDTH * self.done // self.total)
            parts.append(f"[{'#' * filled}{'.' * (_BAR_WIDTH - filled)}]")
            parts.append(f"{self.done}/{self.total} {self.unit}")
        else:
            parts.append(f"{self.done} {self.unit}")
        if self.done and rate > 0:
            parts.append(_rate(rate))
            if self.total and self.done < self.total:
                parts.append(f"{format_seconds((self.total - self.done) / rate)} left")
        parts.append(f"{format_seconds(elapsed)} so far")
        if self._label:
            parts.append(self._label)
        return "  ".join(parts)

    def finish(self) -> None:
        """Erase the line (once drawn), so what is printed next starts a clean line."""
        if self.enabled and self._drawn_at is not None:
            self._write(_ERASE)
            self._drawn_at = None

    def _fit(self, text: str) -> str:
        """``text`` cut to one line of the terminal (the last column left empty, which
        some terminals wrap at)."""
        try:
            width = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            width = shutil.get_terminal_size().columns
        width = max(width - 1, 10)
        return text if len(text) <= width else text[: width - 3] + "..."

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: the run goes on without
            self.enabled = False


def _is_terminal(stream: TextIO) -> bool:
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False
    return tty and os.environ.get("TERM") != "dumb"


def _rate(per_second: float) -> str:
    """Steps a second, or seconds a step when they take more than one."""
    if per_second >= 10:
        return f"{per_second:,.0f}/s"
    if per_second >= 1:
        return f"{per_second:.1f}/s"
    each = 1 / per_second
    return f"{each:.2g}s each" if each < 60 else f"{format_seconds(each)} each"


def format_seconds(seconds: float) -> str:
    """``seconds`` as 42s, 3m05s or 2h07m.

    Examples:
        >>> format_seconds(4.2), format_seconds(185), format_seconds(7620)
        ('4s', '3m05s', '2h07m')
    """
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
