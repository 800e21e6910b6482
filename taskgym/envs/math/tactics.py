"""Tactic mode with Coq: one tactic a turn, and the goals that remain as the observation.

The env opens the proof (``Theorem goal : STATEMENT. Proof.``) in the sandbox's warm
coqtop (:mod:`taskgym.envs.math.coqtop`). Each action is one tactic, or a few sentences,
run as a unit: when any of them fails, Coq's error is the observation and the proof goes
back (``BackTo``) to where it was, so an error costs the turn and nothing else. The goals
shown are what taskgym's own ``Show.`` after the action printed, told apart from the
action's output by the session's sentinels: what the action prints (an ``idtac``, a
notation that prints a goal as a prompt and "No more goals") is never read as goals.
Actions that would leave the proof (``Qed``, ``Abort``, ``Theorem``...) or reach past
it (``Require``, ``Set``...) are not run. The episode ends when no goal is left, or at
the turn limit.

The verdict does not trust the session: the accepted tactics, in order, are checked as a
whole proof by :func:`~taskgym.envs.math.proofs.check_proof` (Coq's kernel and ``Print
Assumptions``, as in whole-proof mode). Its details carry ``most_goals`` (the most goals
open at once) and ``goals_left``, for the ``proof_progress`` shaping reward.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from taskgym.core import Problem, Reply, Tool, Turn, Verdict
from taskgym.envs.common.turns import TurnsTold
from taskgym.envs.math.coqtop import CoqTop, Part, coqtop_for, warm_refusal
from taskgym.envs.math.proofs import (
    CoqTheorem,
    CoqTheoremsTask,
    check_proof,
    proof_text,
    prove_after,
)
from taskgym.errors import CheckerError, ConfigError
from taskgym.sandboxes import Sandbox

__all__ = ["CoqTacticsTask", "reference_steps"]

_GOALS = re.compile(r"^(\d+) goals?\b")
_SENTENCE_END = re.compile(r"(?<=\.)\s+")
_NEEDS_NO_DOT = (".", "{", "}", "-", "+", "*")


def reference_steps(proof: str) -> tuple[str, ...]:
    """A reference proof cut into one action a sentence (bullets and braces stay with
    the sentence after them)."""
    return tuple(step for step in _SENTENCE_END.split(proof.strip()) if step)


def count_goals(shown: str) -> int:
    """How many goals ``Show.`` reported (unfocused ones too); 0 for 'No more goals'."""
    first = next((line.strip() for line in shown.splitlines() if line.strip()), "")
    found = _GOALS.match(first)
    if found:
        return int(found[1])
    return 0 if first.startswith("No more goals") else 1


@dataclass
class _Episode:
    """Where one tactic-mode episode stands, kept beside its sandbox."""

    problem_id: str
    session: CoqTop
    state: int
    """Coq's state after the last accepted action: an error goes back here."""
    goals: str
    open_goals: int
    most_goals: int
    accepted: list[str] = field(default_factory=list)


_EPISODES: weakref.WeakKeyDictionary[Sandbox, _Episode] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class CoqTacticsTask(TurnsTold, CoqTheoremsTask):
    """Prove a Coq theorem one tactic a turn (the theorems and options of
    :class:`CoqTheoremsTask`); the env's ``max_turns`` (30 by default) counts every
    action, errors included."""

    family: ClassVar[str] = "math"

    def __post_init__(self) -> None:
        if not self.warm:
            raise ConfigError("tactic mode needs a warm coqtop: leave warm=True")
        super().__post_init__()

    @property
    def multi_turn(self) -> bool:
        return True

    @property
    def default_max_turns(self) -> int:
        return 30

    def _problem_for(self, theorem: CoqTheorem) -> Problem:
        turns = self.turn_cap or self.default_max_turns  # the env's limit is the only one
        prompt = (
            f"{prove_after(theorem, 'Prove in Coq (Rocq), one tactic a turn')}"
            f"Theorem goal : {theorem.statement}.\nProof.\n\n"
            "1 goal\n  ============================\n"
            f"  {theorem.statement}\n\n"
            "Send one tactic (such as `intros n.`) or a few sentences a turn: the reply is "
            "the goals left, or Coq's error (which undoes that turn's sentences). The proof "
            f"is begun and ended for you. You have {turns} turns; an error costs one."
        )
        steps = reference_steps(theorem.proof)  # none without a reference proof
        return Problem(id=theorem.id, prompt=prompt, solution=steps)

    def setup(self, problem: Problem, sandbox: Sandbox) -> None:
        theorem: CoqTheorem = self._records_by_id[problem.id]
        _EPISODES.pop(sandbox, None)
        _EPISODES[sandbox] = _begin(sandbox, theorem, problem.id)

    def tools(self) -> tuple[Tool, ...]:
        return (
            Tool(
                "tactic",
                "Run one Coq tactic (or a few, each ending in a period) on the goals.",
                {"tactic": "the tactic, such as `intros n.`"},
                lambda args: args["tactic"],
            ),
        )

    def interact(
        self, problem: Problem, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        theorem: CoqTheorem = self._records_by_id[problem.id]
        episode = _EPISODES.get(sandbox)
        if episode is None or episode.problem_id != problem.id:
            raise CheckerError("a tactic-mode step came before its episode's setup")
        text = proof_text(action)
        if not text:
            said = "No tactic. Send one, such as `intros.`"
        elif re.fullmatch(r"Qed\.?", text):
            said = f"{episode.open_goals} goal(s) remain: the proof ends when none does."
        elif (refusal := warm_refusal(text, tactic=True)) is not None:
            said = (
                f"[not run: {refusal}. Tactic mode takes tactics only; the proof is begun "
                "and ended for you.]"
            )
        else:
            said = _run_tactic(sandbox, theorem, episode, text)
            if episode.open_goals == 0:
                return Reply(f"{said}\n[no goals left: the proof is checked]", done=True)
        return Reply(said)

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        theorem: CoqTheorem = self._records_by_id[problem.id]
        episode = _EPISODES.pop(sandbox, None)
        if episode is None or episode.problem_id != problem.id:
            return Verdict.unparsed("the episode was not begun")
        episode.session.back_to_base()
        progress = {
            "most_goals": episode.most_goals,
            "goals_left": episode.open_goals,
            "tactics": len(episode.accepted),
        }
        if not episode.accepted:
            return Verdict.unparsed("no tactic was accepted", **progress)
        if episode.open_goals:
            return Verdict(
                parsed=True, passed=0, total=1, details={"failure": "goals remain", **progress}
            )
        verdict = check_proof(sandbox, theorem, "\n".join(episode.accepted))
        return Verdict(
            verdict.parsed, verdict.passed, verdict.total, {**verdict.details, **progress}
        )


def _begin(sandbox: Sandbox, theorem: CoqTheorem, problem_id: str) -> _Episode:
    """Open the theorem's proof in a warm coqtop back at its base state."""
    for _ in range(2):  # a session that cannot go back is replaced once
        session = coqtop_for(sandbox, theorem.imports, seconds=theorem.seconds)
        if session.back_to_base():
            break
    opened = session.exchange(
        [f"Theorem goal : {theorem.statement}.\nProof.", "Show."], seconds=theorem.seconds
    )
    if opened is None or len(opened) != 2 or any(p.error for p in opened):
        said = " ".join(p.output for p in opened or ())[-800:]
        raise CheckerError(f"theorem {theorem.id!r} cannot be stated in coqtop: {said}")
    shown = opened[1].reply
    goals = count_goals(shown.text)
    return _Episode(problem_id, session, shown.state, shown.shown, goals, goals)


def _run_tactic(sandbox: Sandbox, theorem: CoqTheorem, episode: _Episode, text: str) -> str:
    """Run one action as a unit and say what Coq said; the episode moves on only when
    every sentence of it went through and the proof is still open. The goals shown are
    what taskgym's own ``Show.`` printed, told apart from the action's output by the
    session's sentinels (whatever the action prints, fake prompts and goals included)."""
    if not text.endswith(_NEEDS_NO_DOT):
        text += "."
    if not episode.session.usable:  # spent by the last action (see CoqTop.usable)
        _replay(sandbox, theorem, episode)
    done = episode.session.exchange([text, "Show."], seconds=theorem.seconds)
    if done is None:
        why = "timed out" if episode.session.timed_out else "Coq stopped"
        _replay(sandbox, theorem, episode)
        return f"[{why}: that turn was undone]\n\n{episode.goals}"
    if len(done) != 2 or done[0].error or done[1].error or done[1].proof != "goal":
        _back(sandbox, theorem, episode)
        return f"{_what_went_wrong(done)}\n\n{episode.goals}"
    shown = done[1].reply
    episode.accepted.append(text)
    episode.state, episode.goals = shown.state, shown.shown
    episode.open_goals = count_goals(shown.text)
    episode.most_goals = max(episode.most_goals, episode.open_goals)
    return shown.shown


def _what_went_wrong(done: Sequence[Part]) -> str:
    """Coq's first error in an action that was undone, or why it was."""
    if not done:
        return "Error: the action's last sentence is not ended (it ran into taskgym's Show)."
    errors = [s.shown for s in done[0].segments() if s.error]
    if errors:
        return errors[0]
    if done[0].error:
        return done[0].output.strip()
    return "That left the proof: undone."


def _back(sandbox: Sandbox, theorem: CoqTheorem, episode: _Episode) -> None:
    if not episode.session.back_to(episode.state) or not episode.session.usable:
        _replay(sandbox, theorem, episode)


def _replay(sandbox: Sandbox, theorem: CoqTheorem, episode: _Episode) -> None:
    """Rebuild the proof state in a new coqtop from the accepted actions."""
    fresh = _begin(sandbox, theorem, episode.problem_id)
    if episode.accepted:
        replayed = fresh.session.exchange(
            ["\n".join(episode.accepted), "Show."], seconds=theorem.seconds
        )
        if replayed is None or len(replayed) != 2 or replayed[0].error:
            raise CheckerError(f"the accepted tactics of {theorem.id!r} did not replay")
        fresh.state = replayed[1].state
    episode.session, episode.state = fresh.session, fresh.state
