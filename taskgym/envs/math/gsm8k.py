"""Word problems with a final numeric or short answer: GSM8K's JSONL (``GSM8K-v0``) and
a generic file of ``{"id", "problem", "answer"}`` records (``MathAnswers-v0``).

The agent may reason at length; only its final answer counts (see
:mod:`taskgym.envs.math.answers` for the forms it may take and how answers compare).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from taskgym.core import Problem, Turn, Verdict
from taskgym.envs.common.records import (
    FieldTypes,
    RecordsTask,
    check_fields,
    deprecated_path,
    read_records,
    take_deprecated_path,
)
from taskgym.envs.math.answers import answers_match, find_answer
from taskgym.envs.math.symbolic import shared_checker
from taskgym.errors import ConfigError
from taskgym.sandboxes import Sandbox

__all__ = ["AnswerRecord", "GSM8KTask", "MathAnswersTask", "load_gsm8k", "load_math_answers"]

_INSTRUCTIONS = (
    "Solve the problem. You may reason first; end with the final answer alone, as "
    "\\boxed{ANSWER}, <answer>ANSWER</answer> or a last line #### ANSWER."
)


@dataclass(frozen=True)
class AnswerRecord:
    id: str
    problem: str
    answer: str
    solution: str
    """The reference solution the oracle gives (it ends with the answer in one of the
    forms that are read)."""


def load_gsm8k(path: str | Path) -> list[AnswerRecord]:
    """GSM8K's JSONL (``{"question", "answer"}``, the answer ending in ``#### N``); ids
    are ``gsm8k-<line number from 1>``."""
    records = []
    for number, (where, raw) in enumerate(read_records(path), start=1):
        check_fields(raw, where, {"question": str, "answer": str}, {})
        solution = raw["answer"]
        if "####" not in solution:
            raise ConfigError(f"{where}: the answer has no '#### N' final line")
        final = solution.rsplit("####", 1)[1].strip()
        records.append(AnswerRecord(f"gsm8k-{number}", raw["question"], final, solution))
    return records


_FIELDS: FieldTypes = {"id": str, "problem": str, "answer": (str, int, float)}
_OPTIONAL: FieldTypes = {"solution": str}


def load_math_answers(path: str | Path) -> list[AnswerRecord]:
    """A file of ``{"id", "problem", "answer", "solution"?}`` records; an answer may be
    text or a JSON number (``5``, ``2.5``), read as its decimal text."""
    records = []
    for where, raw in read_records(path):
        check_fields(raw, where, _FIELDS, _OPTIONAL)
        answer = _answer_text(raw["answer"], where)
        solution = raw.get("solution") or f"\\boxed{{{answer}}}"
        if not answers_match(_final(solution), answer, shared_checker()):
            raise ConfigError(f"{where}: the solution's final answer is not the answer")
        records.append(AnswerRecord(raw["id"], raw["problem"], answer, solution))
    return records


def _answer_text(answer: str | float, where: str) -> str:
    """A record's answer as text: a number in plain decimal form (``1e-05`` is
    ``0.00001``, which the answer reader parses)."""
    if isinstance(answer, bool) or (isinstance(answer, float) and not math.isfinite(answer)):
        raise ConfigError(f"{where}: 'answer' must be text or a finite number, got {answer!r}")
    text = answer if isinstance(answer, str) else format(Decimal(repr(answer)), "f")
    if not text.strip():
        raise ConfigError(f"{where}: 'answer' is empty")
    return text


def _final(text: str) -> str:
    found = find_answer(text)
    return found.text if found else ""


@dataclass(frozen=True)
class _AnswerTask(RecordsTask):
    family: ClassVar[str] = "math"

    def _problem_for(self, record: AnswerRecord) -> Problem:
        return Problem(
            id=record.id,
            prompt=f"{record.problem.strip()}\n\n{_INSTRUCTIONS}",
            solution=(record.solution,),
        )

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        record: AnswerRecord = self._records_by_id[problem.id]
        found = find_answer(transcript[-1].action)
        if found is None:
            return Verdict.unparsed("no final answer (\\boxed{}, <answer>, ####, 'the answer is')")
        solved = answers_match(found.text, record.answer, shared_checker())
        details = {"form": found.form, "answer": found.text[:200]}
        return Verdict(parsed=True, passed=int(solved), total=1, details=details)

    def may_share_answer(self, problem: Problem, other: Problem) -> bool:
        """Two problems may have one final answer (the conformance checks ask)."""
        answers = self._records_by_id
        return answers_match(answers[other.id].answer, answers[problem.id].answer, shared_checker())


@dataclass(frozen=True)
class GSM8KTask(_AnswerTask):
    """GSM8K-format word problems from your copy.

    Args:
        tasks: GSM8K's JSONL (for example ``test.jsonl``); taskgym ships none. ``path=``,
            its old name, is still taken for one release.
    """

    tasks: str = ""
    path: str | None = deprecated_path()  # the old name of tasks=

    def __post_init__(self) -> None:
        take_deprecated_path(self)
        if not self.tasks:
            raise ConfigError("GSM8K-v0 needs tasks= to a GSM8K JSONL file (test.jsonl)")
        self._keep({r.id: r for r in load_gsm8k(self.tasks)})


@dataclass(frozen=True)
class MathAnswersTask(_AnswerTask):
    """Problems with a final answer, from a JSONL file of ``{"id", "problem", "answer",
    "solution"?}`` records (MATH, AIME... in this form).

    Args:
        tasks: the file.
    """

    tasks: str = ""

    def __post_init__(self) -> None:
        if not self.tasks:
            raise ConfigError("MathAnswers-v0 needs tasks= to a JSONL file of records")
        self._keep({r.id: r for r in load_math_answers(self.tasks)})
