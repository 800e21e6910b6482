"""The built-in rewards and their composition. Each is registered under its name.

Convention: the built-in rewards pay 1.0 for a solved problem and 0.0 for an empty
answer; shaping terms (``format``, ``step_penalty``) are meant to be mixed in with
``weighted`` or used as gates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from taskgym.core import Outcome
from taskgym.errors import ConfigError
from taskgym.rewards.base import Reward, RewardSpec, make_reward, register_reward

__all__ = [
    "Binary",
    "Format",
    "FractionPassed",
    "Gated",
    "ProofProgress",
    "ReferenceMatch",
    "StepPenalty",
    "Weighted",
]


@dataclass(frozen=True)
class Binary:
    """1.0 when every check passed, else 0.0."""

    def __call__(self, outcome: Outcome) -> float:
        return 1.0 if outcome.verdict.solved else 0.0


@dataclass(frozen=True)
class FractionPassed:
    """The fraction of checks that passed (partial credit)."""

    def __call__(self, outcome: Outcome) -> float:
        return outcome.verdict.fraction


@dataclass(frozen=True)
class Format:
    """1.0 when the answer could be parsed at all, right or wrong."""

    def __call__(self, outcome: Outcome) -> float:
        return 1.0 if outcome.verdict.parsed else 0.0


@dataclass(frozen=True)
class ReferenceMatch:
    """How close the episode came to the task's reference run (InterCode-style): the
    ``score`` a task put in ``verdict.details["reference_run"]`` (shell tasks made with
    ``reference_run=True``: files changed alike, and the last output alike)."""

    def __call__(self, outcome: Outcome) -> float:
        if not outcome.verdict.parsed:  # no episode to compare (an action too long...)
            return 0.0
        run = outcome.verdict.details.get("reference_run")
        if not isinstance(run, Mapping) or not isinstance(run.get("score"), (int, float)):
            raise ConfigError(
                "the reference_match reward needs a task that runs its reference after the "
                "episode (shell tasks: reference_run=True, or taskgym/ShellReference-v0)"
            )
        return float(run["score"])


@dataclass(frozen=True)
class StepPenalty:
    """``-per_step`` for every turn after the first: a cost on long episodes."""

    per_step: float = 0.01

    def __post_init__(self) -> None:
        if not math.isfinite(self.per_step) or self.per_step < 0:
            raise ConfigError(f"step_penalty per_step must be >= 0, got {self.per_step!r}")

    def __call__(self, outcome: Outcome) -> float:
        return -self.per_step * max(outcome.turns - 1, 0)


@dataclass(frozen=True)
class ProofProgress:
    """Shaping for tactic-mode proofs: 1.0 for a proof Coq accepts; short of that,
    ``partial`` times the share of goals closed, ``(most_goals - goals_left) /
    most_goals``; less ``per_step`` for every turn after the first, never below 0.

    A shaping term, not a measure of truth: an agent can open easy goals (``assert
    True``) to close them, which is why an unfinished proof earns at most ``partial``.
    Needs a task that reports its goals (``taskgym/CoqTactics-v0``).
    """

    partial: float = 0.5
    per_step: float = 0.01

    def __post_init__(self) -> None:
        for name in ("partial", "per_step"):
            value = getattr(self, name)
            if not math.isfinite(value) or not 0 <= value <= 1:
                raise ConfigError(f"proof_progress {name} must be in [0, 1], got {value!r}")

    def __call__(self, outcome: Outcome) -> float:
        details = outcome.verdict.details
        most, left = details.get("most_goals"), details.get("goals_left")
        if not isinstance(most, int) or not isinstance(left, int):
            raise ConfigError(
                "the proof_progress reward needs a task that reports its goals "
                "(taskgym/CoqTactics-v0)"
            )
        if outcome.verdict.solved:
            earned = 1.0
        else:
            earned = self.partial * (most - left) / most if most > 0 else 0.0
        return max(earned - self.per_step * max(outcome.turns - 1, 0), 0.0)


@dataclass(frozen=True)
class Weighted:
    """The weighted sum of several rewards."""

    terms: tuple[tuple[Reward, float], ...]

    def __call__(self, outcome: Outcome) -> float:
        return sum(weight * reward(outcome) for reward, weight in self.terms)


@dataclass(frozen=True)
class Gated:
    """``reward`` when ``gate`` pays at least ``threshold``, else 0.0.

    The usual use: no credit for a right answer in the wrong format.
    """

    reward: Reward
    gate: Reward
    threshold: float = 1.0

    def __call__(self, outcome: Outcome) -> float:
        return self.reward(outcome) if self.gate(outcome) >= self.threshold else 0.0


def weighted(terms: Sequence[Sequence[Any]] | Mapping[str, float]) -> Weighted:
    """``weighted([[spec, weight], ...])`` or ``weighted({"name": weight, ...})``."""
    pairs = list(terms.items()) if isinstance(terms, Mapping) else list(terms)
    built = []
    for pair in pairs:
        if len(pair) != 2 or isinstance(pair[1], bool) or not isinstance(pair[1], (int, float)):
            raise ConfigError(f"weighted takes [reward, weight] pairs, got {pair!r}")
        built.append((make_reward(pair[0]), float(pair[1])))
    if not built:
        raise ConfigError("weighted needs at least one [reward, weight] pair")
    return Weighted(tuple(built))


def gated(reward: RewardSpec, gate: RewardSpec = "format", threshold: float = 1.0) -> Gated:
    return Gated(make_reward(reward), make_reward(gate), float(threshold))


register_reward("binary", Binary)
register_reward("fraction_passed", FractionPassed)
register_reward("format", Format)
register_reward("proof_progress", ProofProgress)
register_reward("reference_match", ReferenceMatch)
register_reward("step_penalty", StepPenalty)
register_reward("weighted", weighted)
register_reward("gated", gated)
# A mixture's or a curriculum's episode paid by its source env's own reward.
register_reward("source", "taskgym.envs.composite.rewards:SourceReward")


def is_quick(reward: Reward) -> bool:
    """Whether ``reward`` is built of this module's rewards only: arithmetic on the
    outcome, safe to run on an event loop. Any other reward may call a model or a
    service, so the episode pool runs it in a thread."""
    if isinstance(reward, Weighted):
        return all(is_quick(term) for term, _ in reward.terms)
    if isinstance(reward, Gated):
        return is_quick(reward.reward) and is_quick(reward.gate)
    return type(reward).__module__ == __name__
