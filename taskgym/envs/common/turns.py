"""Tasks that tell the agent how many turns it has (attempts, runs, "3 turn(s) left"):
the env's turn limit, when lower than the task's own, is what they must count from.

The env ends the episode at its own limit (a truncation, checked); the task still ends
it at its own (a termination). So a copy made by :meth:`TurnsTold.with_turn_limit`
only counts from the env's limit in what it says, and never ends the episode there.
"""

from __future__ import annotations

import copy
from typing import ClassVar, TypeVar

__all__ = ["TurnsTold"]

_Told = TypeVar("_Told", bound="TurnsTold")


class TurnsTold:
    """A mix-in for :class:`~taskgym.core.Task` subclasses (before ``Task`` in the bases)."""

    turn_cap: ClassVar[int | None] = None
    """The env's turn limit, set on copies made by :meth:`with_turn_limit`."""

    def with_turn_limit(self: _Told, max_turns: int) -> _Told:
        """A copy that counts its turns from ``max_turns`` where that is lower than its
        own limit (see :meth:`turns_told`)."""
        told = copy.copy(self)  # frozen dataclasses: set past their __setattr__
        object.__setattr__(told, "turn_cap", max_turns)
        return told

    def turns_told(self, own: int) -> int:
        """The turns to tell the agent of, where the task itself allows ``own``."""
        return own if self.turn_cap is None else min(own, self.turn_cap)
