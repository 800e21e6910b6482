"""What a benchmark returns: a table of candidates against a baseline measured in the
same run, and the goal it is held to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Report", "Row"]


@dataclass(frozen=True)
class Row:
    """One candidate: its measure (``value`` in the report's unit) and how it compares
    with the baseline (``ratio``: the report says which way is better)."""

    candidate: str
    value: float
    ratio: float
    note: str = ""


@dataclass
class Report:
    """One benchmark's table. ``ratio_means`` says what the ratio column is, for
    instance ``"x baseline time"``; ``goal`` is the benchmark's target, and ``goal_met``
    whether this run met it (None when it sets no target)."""

    key: str
    title: str
    unit: str
    ratio_means: str
    rows: list[Row] = field(default_factory=list)
    goal: str = ""
    goal_met: bool | None = None
    notes: list[str] = field(default_factory=list)

    def add(self, candidate: str, value: float, ratio: float, note: str = "") -> None:
        self.rows.append(Row(candidate, value, ratio, note))

    def text(self) -> str:
        width = max([len(r.candidate) for r in self.rows] + [9])
        lines = [f"{self.key}  {self.title}"]
        lines.append(f"  {'candidate':<{width}}  {self.unit:>12}  {self.ratio_means:>16}")
        for row in self.rows:
            note = f"  {row.note}" if row.note else ""
            lines.append(
                f"  {row.candidate:<{width}}  {_number(row.value):>12}  {row.ratio:>16.2f}{note}"
            )
        for note in self.notes:
            lines.append(f"  note: {note}")
        if self.goal:
            verdict = {True: "met", False: "NOT met", None: "-"}[self.goal_met]
            lines.append(f"  goal: {self.goal}: {verdict}")
        return "\n".join(lines)


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value < 10 else f"{value:.1f}"


Benchmark = Callable[[bool], Report]
"""A benchmark: ``quick`` (a smaller run, for a smoke test) -> its report."""
