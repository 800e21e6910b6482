"""The answer of a reply, and taskgym's checks of its form, stricter than reasoning-gym's.

The answer is what one ``<answer>...</answer>`` holds (blanks around it dropped), as
reasoning-gym's prompts ask for it. A reply with no such block, or with more than one,
states no answer. reasoning-gym's own ``score_answer`` then decides whether the answer
is right; but many scoring functions read leniently (the first number found in the text,
any letters that are moves, partial credit for text that contains the reference), so
before it runs, an answer must also be as bare as the reference is:

- no longer than :func:`length_cap` allows (four times the reference and 256 more
  characters; 16 KiB where a dataset has no single reference);
- a number alone where the reference is a number (``12`` but not ``12 or 13``), with
  the reference's sign (``gsm_symbolic`` reads ``-72`` as 72), and the very integer
  where the reference is an integer;
- one word where the reference is one word (``True``, not ``True False``);
- no more lines than the reference has (a grid is the grid, not a grid and a note);
- not the reference and more (``FalseTrue`` holds ``False`` but hedges), letter case
  aside, where the reference is not a number;
- the very word, letter case aside, where the reference is yes, no, true or false
  (``game_of_life_halting`` scores any text that is not empty as right).

A dataset whose items have no reference (its answers are checked by rules: a colouring,
a Rubik's cube's moves) gets the length cap alone. Every check is one pass over the
answer.
"""

from __future__ import annotations

import re

__all__ = ["extract_answer", "form_problem", "is_integer", "length_cap"]

_OPEN, _CLOSE = "<answer>", "</answer>"
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,4})?(?:/\d+)?")
_NO_REFERENCE_CAP = 16 * 1024
# At most 4,300 digits: int() refuses longer text (and would be slow on it).
_INTEGER = re.compile(r"[-+]?\d{1,4300}")
_YES_NO = frozenset({"yes", "no", "true", "false"})


def extract_answer(reply: str) -> tuple[str | None, str]:
    """The answer of ``reply`` and "", or None and why there is none. Linear in the reply:
    one search for each tag from where the last one ended."""
    found: list[str] = []
    start = reply.find(_OPEN)
    while start != -1:
        end = reply.find(_CLOSE, start + len(_OPEN))
        if end == -1:
            break
        found.append(reply[start + len(_OPEN) : end])
        start = reply.find(_OPEN, end + len(_CLOSE))
    if not found:
        return None, "no <answer>...</answer> in the reply"
    if len(found) > 1:
        return None, f"{len(found)} <answer> blocks: give one answer"
    return found[0].strip(), ""


def length_cap(reference: str | None) -> int:
    """The longest answer read for ``reference``."""
    if reference is None:
        return _NO_REFERENCE_CAP
    return 4 * len(reference) + 256


def form_problem(answer: str, reference: str | None) -> str:
    """Why ``answer`` is not in the form of ``reference`` ("" when it is)."""
    cap = length_cap(reference)
    if len(answer) > cap:
        return f"the answer has {len(answer)} characters; at most {cap} are read"
    if reference is None:
        return ""
    reference = reference.strip()
    if _NUMBER.fullmatch(reference.replace(",", "")):
        return _number_problem(answer.replace(",", ""), reference.replace(",", ""))
    return _text_problem(answer, reference)


def _text_problem(answer: str, reference: str) -> str:
    if reference.lower() in _YES_NO and answer.lower() != reference.lower():
        return f"the answer is not {reference}"
    if reference and len(answer) > len(reference) and reference.lower() in answer.lower():
        return "the answer holds the reference and more: answer with one answer alone"
    if reference and len(reference.split()) == 1 and len(answer.split()) > 1:
        return "the reference is one word: answer with one word"
    lines = _lines(reference)
    if _lines(answer) > lines:
        return f"the answer has more lines than the reference ({lines}): answer alone"
    return ""


def _number_problem(answer: str, reference: str) -> str:
    if not _NUMBER.fullmatch(answer):
        return "the reference is a number: answer with the number alone"
    if _INTEGER.fullmatch(reference):
        if not (_INTEGER.fullmatch(answer) and int(answer) == int(reference)):
            return "the answer is not the integer asked for"
        return ""
    negative = answer.startswith("-") and any(c in "123456789" for c in answer)
    if negative != (reference.startswith("-") and any(c in "123456789" for c in reference)):
        return "the answer's sign is not the reference's"
    return ""


def is_integer(text: str) -> bool:
    """Whether ``text`` is an integer as reasoning-gym writes one (a sign, digits)."""
    return bool(_INTEGER.fullmatch(text.strip().replace(",", "")))


def _lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip())
