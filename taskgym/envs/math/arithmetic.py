"""Procedurally generated arithmetic, checked exactly.

Each problem is a random expression tree built from ``random.Random(seed)``; the
reference answer is computed with exact rationals, never typed. Two ways to answer:

- :class:`ArithmeticTask`: the answer as text (an integer, a fraction such as ``-7/3``,
  or a finite decimal), optionally inside ``<answer>...</answer>``; with ``attempts > 1``
  the agent is told when it is wrong and may try again.
- :class:`ArithmeticProgramTask`: a Python program that prints the answer, run in the
  sandbox ("program of thought"); only what it prints counts.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar, Literal

from taskgym.core import Execution, Problem, Reply, Task, Turn, Verdict
from taskgym.envs.common.extract import extract_code
from taskgym.envs.common.turns import TurnsTold
from taskgym.errors import SandboxUnavailableError, UnknownTaskIdError
from taskgym.sandboxes import Limits, Sandbox

__all__ = ["ArithmeticProgramTask", "ArithmeticTask", "parse_exact_number"]

Difficulty = Literal["easy", "medium", "hard"]


@dataclass(frozen=True)
class _Level:
    operands: tuple[int, int]  # inclusive range of how many numbers appear
    values: tuple[int, int]  # inclusive range of each number
    operators: str


_LEVELS: dict[str, _Level] = {
    "easy": _Level(operands=(2, 2), values=(0, 99), operators="+-"),
    "medium": _Level(operands=(3, 4), values=(1, 50), operators="+-*"),
    "hard": _Level(operands=(4, 6), values=(1, 30), operators="+-*/"),
}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
# Sandbox backends in which python3 was seen to run (probed once per process).
_PYTHON_VERIFIED: set[str] = set()

# A number is at most 40 digits on each side; bounded so that a huge action is rejected
# in linear time and never reaches int() (which refuses more than 4300 digits).
_NUMBER = re.compile(r"([+-]?\d{1,40}(?:\.\d{1,40})?)(?:\s*/\s*([+-]?\d{1,40}))?", re.ASCII)


@dataclass(frozen=True)
class _Node:
    value: Fraction
    text: str  # as shown to the agent
    python: str  # as exact Python, for the reference program
    precedence: int  # 3 for a number


def parse_exact_number(text: str) -> Fraction | None:
    """The exact value of ``"42"``, ``"-7/3"``, ``"2.5"`` (surrounding blanks allowed),
    or ``None`` when ``text`` is not one number.

    Examples:
        >>> parse_exact_number(" -14/6 ")
        Fraction(-7, 3)
        >>> parse_exact_number("about 3") is None
        True
    """
    match = _NUMBER.fullmatch(text.strip())
    if match is None:
        return None
    value = Fraction(match.group(1))
    if match.group(2) is not None:
        denominator = Fraction(match.group(2))
        if denominator == 0:
            return None
        value /= denominator
    return value


def format_exact(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def extract_answer(action: str) -> str:
    """The text inside the last ``<answer>...</answer>``, or the whole action."""
    start = action.rfind("<answer>")
    if start != -1:
        end = action.find("</answer>", start)
        if end != -1:
            return action[start + len("<answer>") : end]
    return action


@dataclass(frozen=True)
class ArithmeticTask(TurnsTold, Task):
    """Compute the exact value of an arithmetic expression.

    Args:
        difficulty: ``easy`` (two numbers, + and -), ``medium`` (3-4 numbers, + - *),
            ``hard`` (4-6 numbers, + - * /, fractional answers).
        attempts: how many answers the agent may give; after a wrong one it is told so.
    """

    difficulty: Difficulty = "medium"
    attempts: int = 1

    family: ClassVar[str] = "math"
    # Problems, replies and checks are arithmetic on small fractions.
    execution: ClassVar[Execution] = Execution(quick_stages={"problem", "interact", "check"})
    _instructions: ClassVar[str] = (
        "Give only the final answer (an integer, or a fraction such as -7/3), "
        "optionally inside <answer></answer> tags."
    )

    def __post_init__(self) -> None:
        if self.difficulty not in _LEVELS:
            raise ValueError(
                f"difficulty must be one of {sorted(_LEVELS)}, got {self.difficulty!r}"
            )
        if (
            isinstance(self.attempts, bool)
            or not isinstance(self.attempts, int)
            or self.attempts < 1
        ):
            raise ValueError(f"attempts must be a positive int, got {self.attempts!r}")

    @property
    def multi_turn(self) -> bool:
        return self.attempts > 1

    @property
    def default_max_turns(self) -> int:
        return self.attempts

    # -- problems ----------------------------------------------------------------------

    def problem(self, seed: int) -> Problem:
        rng = random.Random(seed)
        level = _LEVELS[self.difficulty]
        while True:  # redraw the rare tree that divides by zero
            node = _expression(rng, level, rng.randint(*level.operands))
            if node is not None:
                break
        return Problem(
            id=f"arithmetic-{self.difficulty}-{seed}",
            prompt=self._prompt(node),
            solution=self._solution(node),
            data={"answer": format_exact(node.value)},
        )

    def get(self, task_id: str) -> Problem:
        prefix = f"arithmetic-{self.difficulty}-"
        seed_text = task_id.removeprefix(prefix)
        if not task_id.startswith(prefix) or not seed_text.isdigit() or len(seed_text) > 19:
            raise UnknownTaskIdError(
                f"{task_id!r} is not an id of this env; its ids look like '{prefix}<seed>'"
            )
        return self.problem(int(seed_text))

    def _prompt(self, node: _Node) -> str:
        expression = f"\n\n    {node.text}\n\n"
        prompt = f"Compute the exact value of this expression:{expression}{self._instructions}"
        if self.multi_turn:
            told = self.turns_told(self.attempts)
            prompt += f" You have {told} attempt{'s' * (told != 1)}; a wrong one is told so."
        return prompt

    def _solution(self, node: _Node) -> tuple[str, ...]:
        return (format_exact(node.value),)

    # -- checking ----------------------------------------------------------------------

    def interact(
        self, problem: Problem, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        verdict = self._grade(problem, self._answer_text(action, sandbox))
        if verdict.solved:
            return Reply("Correct.", done=True)
        left = self.turns_told(self.attempts) - len(transcript) - 1
        why = "That is not right." if verdict.parsed else "No answer could be read."
        if left <= 0:  # at the env's lower limit, the env ends the episode
            return Reply(f"{why} No attempts left.", done=len(transcript) + 1 >= self.attempts)
        return Reply(f"{why} {left} attempt(s) left; answer again.")

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        return self._grade(problem, self._answer_text(transcript[-1].action, sandbox))

    def _answer_text(self, action: str, sandbox: Sandbox) -> str:
        return extract_answer(action)

    def _grade(self, problem: Problem, answer_text: str) -> Verdict:
        expected = str(problem.data["answer"])
        value = parse_exact_number(answer_text)
        if value is None:
            return Verdict.unparsed("the answer is not a single number", expected=expected)
        given = format_exact(value)
        passed = int(given == expected)
        return Verdict(True, passed, 1, {"answer": given, "expected": expected})


@dataclass(frozen=True)
class ArithmeticProgramTask(ArithmeticTask):
    """Answer with a Python program that prints the exact value; it runs in the sandbox
    (``python3 -I``, 5 seconds, 512 MiB) and only its standard output is read."""

    # Problems are made as above; the rest runs code.
    execution: ClassVar[Execution] = Execution(needs_sandbox=True, quick_stages={"problem"})
    _instructions: ClassVar[str] = (
        "Answer with a Python 3 program (in a ```python fenced block) that prints the exact "
        "value: an integer, or a fraction such as -7/3. Only what it prints is read."
    )
    _limits: ClassVar[Limits] = Limits(
        wall_seconds=5.0, cpu_seconds=5, memory_bytes=512 * 1024 * 1024, output_bytes=4096
    )

    def setup(self, problem: Problem, sandbox: Sandbox) -> None:
        # Probed before the agent acts, so a missing interpreter raises here instead of
        # scoring every program zero (a broken checker must not look like a wrong answer).
        if sandbox.backend in _PYTHON_VERIFIED:
            return
        probe = sandbox.run(["python3", "-I", "-c", "print(6 * 7)"], limits=self._limits)
        if probe.out.strip() != "42":
            raise SandboxUnavailableError(
                f"python3 does not run in the {sandbox.backend} sandbox "
                f"(exit {probe.exit_code}: {probe.err.strip()[:200]}); install python3 where "
                "the sandbox can reach it (/usr/bin or /usr/local/bin)"
            )
        _PYTHON_VERIFIED.add(sandbox.backend)

    def _solution(self, node: _Node) -> tuple[str, ...]:
        program = f"from fractions import Fraction as F\nprint({node.python})\n"
        return (f"```python\n{program}```",)

    def _answer_text(self, action: str, sandbox: Sandbox) -> str:
        sandbox.write_file("main.py", extract_code(action))
        result = sandbox.run(["python3", "-I", "main.py"], limits=self._limits)
        return result.out if result.ok else ""


def _expression(rng: random.Random, level: _Level, operands: int) -> _Node | None:
    """A random expression with ``operands`` numbers, or None if it divides by zero."""
    if operands == 1:
        n = rng.randint(*level.values)
        return _Node(Fraction(n), str(n), f"F({n})", 3)
    left_count = rng.randint(1, operands - 1)
    left = _expression(rng, level, left_count)
    right = _expression(rng, level, operands - left_count)
    op = rng.choice(level.operators)
    if left is None or right is None or (op == "/" and right.value == 0):
        return None
    value = {
        "+": lambda: left.value + right.value,
        "-": lambda: left.value - right.value,
        "*": lambda: left.value * right.value,
        "/": lambda: left.value / right.value,
    }[op]()
    prec = _PRECEDENCE[op]
    # Parenthesise a child that binds looser, and a right child of equal precedence
    # under - or / (a - (b - c) is not a - b - c).
    wrap_left = left.precedence < prec
    wrap_right = right.precedence < prec or (right.precedence == prec and op in "-/")
    text = f"{_wrap(left.text, wrap_left)} {op} {_wrap(right.text, wrap_right)}"
    python = f"{_wrap(left.python, wrap_left)} {op} {_wrap(right.python, wrap_right)}"
    return _Node(value, text, python, prec)


def _wrap(text: str, parens: bool) -> str:
    return f"({text})" if parens else text
