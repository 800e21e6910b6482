"""Final answers of math problems: find the answer in a model's text and decide whether
it equals the reference.

Forms the answer may take, the last one found wins in this order of trust:
``\\boxed{...}`` (braces balanced), ``<answer>...</answer>``, a GSM8K-style ``#### ...``
line, and "the answer is ...". A text with none of them has no answer (a format
failure, not a wrong one).

Numbers are compared exactly (as fractions): ``1,234``, ``$1,234.50``, ``-3/4``,
``\\frac{3}{4}``, ``\\dfrac34``, ``2.50``, ``50%`` (as 50 or 0.5), ``0.333`` (for 1/3),
``12 dollars`` (trailing words dropped) and LaTeX dressing (``\\text{...}``, ``\\$``,
``\\,``, ``\\!``) all parse. A
reference that is not a number is compared as normalised text (blanks, case, LaTeX
dressing and a trailing period ignored), and, given a
:class:`~taskgym.envs.math.symbolic.SymbolicChecker`, as mathematics.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from taskgym.envs.math.symbolic import SymbolicChecker

__all__ = ["FoundAnswer", "answers_match", "find_answer", "numbers_match", "parse_number"]

_OPEN_TAG = re.compile(r"<answer>", re.IGNORECASE)
_CLOSE_TAG = re.compile(r"</answer>", re.IGNORECASE)
_THE_ANSWER_IS = re.compile(
    r"\bthe (?:final )?answer is[:\s]*(.+?)(?:\.\s|\.$|\n|$)", re.IGNORECASE | re.DOTALL
)
# A power of ten is bounded: "1e100000000" would have Fraction compute 10**100000000.
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3})?")
_GROUPED = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}|\\[dt]?frac\s*(\d)\s*(\d)")
_TEXT = re.compile(r"\\(?:text|textbf|mathrm|mathbf|boldsymbol|mbox)\s*\{([^{}]*)\}")
# Degrees only as a superscript (or the sign): a bare \circ composes functions.
_DEGREES = re.compile(r"\^\s*\{?\\circ\}?|\u00b0|\\degree")
# A number's trailing words: a unit ("12 eggs", "5 cm", "100 m^2") or something else.
_TRAILING_WORDS = re.compile(r"(?<=[\d.])\s*(?P<words>[A-Za-z][A-Za-z ]*)(?:\^\{?\d\}?)?$")
_ONE_LETTER_UNITS = frozenset("mgslh")  # metres, grams, seconds, litres, hours
# Words after a number that change it (or are mathematics), never a unit.
_NOT_UNITS = frozenset(
    {
        "pi",
        "or",
        "and",
        "not",
        "no",
        "plus",
        "minus",
        "times",
        "over",
        "per",
        "squared",
        "cubed",
        "half",
        "halves",
        "quarter",
        "quarters",
        "third",
        "thirds",
        "hundred",
        "hundreds",
        "thousand",
        "thousands",
        "million",
        "millions",
        "billion",
        "billions",
        "trillion",
        "dozen",
        "dozens",
        "percent",
        "x",
        "y",
        "z",
        "n",
    }
)
_MAX_CHARS = 200
_MAX_ANSWER_CHARS = 2000
"""A stated final answer longer than this is not compared (no answer here is as long)."""
_ASSIGNMENT = re.compile(r"[A-Za-z](?:_\{?\w+\}?)?\s*(?:=|\\in\b)\s*([^=]+)")
_VECTOR = re.compile(r"\\(?:mathbf|boldsymbol|vec|overrightarrow)\s*\{?\s*[A-Za-z]")
_MATH = re.compile(r"[\d\\^_+\-*/=(){}\[\]]")


@dataclass(frozen=True)
class FoundAnswer:
    form: str
    """Which form it was found in: boxed, answer_tag, hashes, the_answer_is."""
    text: str


def find_answer(text: str) -> FoundAnswer | None:
    """The final answer of ``text``, or None when it states none. Linear in the length of
    ``text``, whatever it holds (every form is found by a single scan)."""
    boxed = _last_boxed(text)
    if boxed is not None and boxed.strip():
        return FoundAnswer("boxed", boxed.strip())
    for form, finder in (
        ("answer_tag", _tagged),
        ("hashes", _hashes),
        ("the_answer_is", _said),
    ):
        found = [answer.strip() for answer in finder(text) if answer.strip()]
        if found:
            return FoundAnswer(form, found[-1])
    return None


def _tagged(text: str) -> list[str]:
    """What each ``<answer>...</answer>`` holds, as a non-greedy search reads them (an
    opening tag, up to the first closing tag after it), found from the two tags'
    positions in one pass each: the regular expression rescanned the rest of the text
    after every unclosed opening tag, quadratic in a text of many."""
    closes = [m.start() for m in _CLOSE_TAG.finditer(text)]
    found, c, resume = [], 0, 0
    for opening in _OPEN_TAG.finditer(text):
        if opening.start() < resume:
            continue
        while c < len(closes) and closes[c] < opening.end():
            c += 1
        if c == len(closes):
            break
        found.append(text[opening.end() : closes[c]])
        resume = closes[c] + len("</answer>")
    return found


def _hashes(text: str) -> list[str]:
    """The rest of each line that starts with ``####`` (blanks before it allowed)."""
    found = []
    for line in text.split("\n"):
        rest = line.lstrip(" \t")
        if rest.startswith("####"):
            found.append(rest[4:].strip(" \t"))
    return found


def _said(text: str) -> list[str]:
    return list(_THE_ANSWER_IS.findall(text))


def _last_boxed(text: str) -> str | None:
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start == -1:
        return None
    i = text.index("{", start) + 1
    depth, begin = 1, i
    while i < len(text):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[begin:i]
        i += 1
    return None  # unbalanced: not an answer


def _undress(text: str) -> str:
    """LaTeX and typographic dressing off: $, \\text{}, spacing commands, unicode minus."""
    text = text.strip().replace("\u2212", "-").replace("\\!", "").replace("\\,", "")
    text = text.replace("\\;", "").replace("\\ ", " ").replace("\\$", "").replace("$", "")
    text = text.replace("\\left", "").replace("\\right", "").replace("\\%", "%")
    text = _DEGREES.sub("", _TEXT.sub(r"\1", text))
    return text.strip().rstrip(".").strip()


def parse_number(text: str) -> Fraction | None:
    """The exact value of a number as people and models write it, or None.

    Examples:
        >>> parse_number("$1,234.50")
        Fraction(2469, 2)
        >>> parse_number("\\\\frac{3}{4}"), parse_number("50%"), parse_number("12 eggs")
        (Fraction(3, 4), Fraction(50, 1), Fraction(12, 1))
        >>> parse_number("x + 1") is None
        True
    """
    if len(text) > _MAX_CHARS:
        return None
    text = _undress(text)
    frac = _FRAC.fullmatch(text)
    if frac:
        braced = frac.group(1) is not None
        top, bottom = frac.group(1, 2) if braced else frac.group(3, 4)
        return _ratio(parse_number(top), parse_number(bottom))
    text = text.rstrip("%").strip()
    # Trailing words that are a unit ("12 eggs", "5 cm") are dressing; others ("6x",
    # "5 million", "5 or 6") make the text no number.
    words = _TRAILING_WORDS.search(text)
    if words is not None:
        if _unit_of(words["words"]) is None:
            return None
        text = text[: words.start()]
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    if "/" in text:
        top, _, bottom = text.partition("/")
        return _ratio(_plain(top), _plain(bottom))
    return _plain(text)


def _unit_of(words: str) -> str | None:
    """``words`` after a number as a unit, normalised ("Days" and "day" are "day"), or
    None when they are not one."""
    parts = words.lower().split()
    if len(parts) == 1 and parts[0] in _ONE_LETTER_UNITS:
        return parts[0]
    if not parts or any(len(p) < 2 or p in _NOT_UNITS for p in parts):
        return None
    return " ".join(p[:-1] if p.endswith("s") and len(p) > 2 else p for p in parts)


def number_unit(text: str) -> str:
    """The unit a number is given in ("" for none): trailing unit words, or degrees."""
    if _DEGREES.search(text):
        return "degree"
    words = _TRAILING_WORDS.search(_undress(text).rstrip("%").strip())
    return (_unit_of(words["words"]) or "") if words is not None else ""


def _plain(text: str) -> Fraction | None:
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None


def _ratio(top: Fraction | None, bottom: Fraction | None) -> Fraction | None:
    if top is None or bottom is None or bottom == 0:
        return None
    return top / bottom


def _normal_text(text: str) -> str:
    return " ".join(_undress(text).lower().split())


def answers_match(
    given: str,
    reference: str,
    symbolic: SymbolicChecker | None = None,
    *,
    form: str | None = None,
    approximate: bool = True,
) -> bool:
    """Whether ``given`` states the same answer as ``reference``: equal numbers when both
    are numbers (see :func:`numbers_match`); else equal normalised text, or, with a
    ``symbolic`` checker, equal mathematics (``2(x+1)`` and ``2x+2``, ``\\sqrt{8}/2`` and
    ``\\sqrt{2}``, sets, tuples and intervals). ``form`` ("expanded", "factored") asks
    the symbolic checker that the answer also be written so. A given ``x = 5`` is read
    as ``5`` where the reference names no variable. Units must agree where both sides
    give one (``7 weeks`` is not ``7 days``). A reference of one letter (a choice, a
    variable) is matched as that letter, brackets and dressing aside, never as a constant
    (``I`` is not ``\\sqrt{-1}``). ``approximate=False`` asks for exact numbers: no
    rounded decimal stands for a fraction."""
    if len(given) > _MAX_ANSWER_CHARS:
        return False
    if _is_one_letter(reference):
        return _undress(given).strip("() ").lower() == reference.strip().lower()
    assigned = _ASSIGNMENT.fullmatch(given.strip())
    if assigned and "=" not in reference:
        given = assigned[1]
    if form is None:
        as_numbers = _numbers_agree(given, reference, approximate)
        if as_numbers is not None:
            return as_numbers
        if _normal_text(given) == _normal_text(reference) and bool(_normal_text(reference)):
            return True
    # Words are not products of letters ("yes" is not "sey"): mathematics only. Bold or
    # arrowed letters are vectors, whose products do not commute: text only.
    if symbolic is None or not _MATH.search(reference) or _VECTOR.search(given + reference):
        return False
    return symbolic.equal(_undress(given), _undress(reference), form)


def _numbers_agree(given: str, reference: str, approximate: bool) -> bool | None:
    """Whether two numbers agree (units too, where both give one); None when either
    side is not a number."""
    expected, got = parse_number(reference), parse_number(given)
    if expected is None or got is None:
        return None
    units = number_unit(given), number_unit(reference)
    if all(units) and units[0] != units[1]:
        return False
    return numbers_match(given, got, reference, expected, approximate=approximate)


def numbers_match(
    given: str, got: Fraction, reference: str, expected: Fraction, *, approximate: bool = True
) -> bool:
    """Equal numbers, allowing for how people write them:

    - a percentage is its number or its fraction of one (``50%`` is 50 and 0.5), on
      either side;
    - with ``approximate``, a decimal of at least three places that rounds or cuts a
      number with no finite decimal (``0.333`` for 1/3, ``0.667`` for 2/3) is that
      number.
    """
    candidates = {got, got / 100} if _is_percent(given) else {got}
    targets = {expected, expected / 100} if _is_percent(reference) else {expected}
    if candidates & targets:
        return True
    places = _decimal_places(given)
    if places < 3 or not approximate:
        return False
    # A percentage's fraction of one has two more places than it shows.
    shown = {got: places, got / 100: places + 2} if _is_percent(given) else {got: places}
    return any(
        not _terminates(target) and candidate in _shortened(target, digits)
        for candidate, digits in shown.items()
        for target in targets
    )


def _shortened(value: Fraction, places: int) -> set[Fraction]:
    """``value`` rounded (half away from zero) and cut to ``places`` decimal places."""
    scale = 10**places
    magnitude = abs(value) * scale
    sign = -1 if value < 0 else 1
    cut = math.floor(magnitude)
    rounded = math.floor(magnitude + Fraction(1, 2))
    return {Fraction(sign * cut, scale), Fraction(sign * rounded, scale)}


def _is_one_letter(text: str) -> bool:
    stripped = text.strip()
    return len(stripped) == 1 and stripped.isalpha()


def _is_percent(text: str) -> bool:
    return _undress(text).endswith("%")


def _decimal_places(text: str) -> int:
    found = re.fullmatch(r"[-+]?[\d,]*\.(\d+)", _undress(text).rstrip("%").strip())
    return len(found[1]) if found else 0


def _terminates(value: Fraction) -> bool:
    """Whether ``value`` has a finite decimal expansion (its denominator is 2^a 5^b)."""
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1
