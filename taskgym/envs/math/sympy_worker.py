"""The process that decides symbolic equivalence with sympy, apart from the caller: sympy
can take unbounded time on hostile input, and only a process can be stopped mid-call.

Agent text is never evaluated. sympy's own string parsers (``parse_expr``, ``sympify``)
run Python's ``eval`` on what they read, so this module does not use them: a
hand-written tokenizer and recursive-descent parser (:class:`_Parser`) read a closed
grammar of numbers, one-letter symbols, a fixed table of constants and functions, the
operators ``+ - * / ^ !``, brackets and commas, and build sympy objects by calling their
constructors. Anything else is a parse error, which makes the answer not equal.
Exponents, factorials and nesting are bounded before sympy computes anything, and the
process caps its own memory (:func:`_cap_resources`); the host adds a wall-clock limit.

Protocol: ``{"ready": true}`` on the reply descriptor once sympy is loaded; then one
JSON object a line on stdin, ``{"id": str, "given": str, "reference": str,
"form": null | "expanded" | "factored"}``; one a line on the reply descriptor given as
the first argument (never stdout, which goes nowhere), ``{"id": same, "equal": bool}``
or ``{"id": same, "error": str}`` (either side does not parse). With a ``form``, the
given answer must also be written in it (see :func:`in_form`).
Run as ``python -I sympy_worker.py FD``; :class:`SymbolicChecker` in
:mod:`taskgym.envs.math.symbolic` drives it with a time limit a call and reads only
replies that carry its request's ``id``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from typing import Any

import sympy
from sympy.core.evalf import PrecisionExhausted

MAX_CHARS = 500
"""Longer texts are not read (the host refuses them before they get here)."""
_MAX_EXPONENT = 10_000
"""A power of numbers with a larger exponent is refused before sympy computes it."""
_MAX_FACTORIAL = 5_000
_MAX_DEPTH = 60
"""Brackets, fractions and function calls nested deeper than this do not parse."""
_MEMORY_BYTES = 2 << 30
_MIN_DIGITS = 10
"""A decimal stands for an irrational constant only with this many significant digits
(``3.14159`` is not pi; ``1.5707963268`` is pi/2)."""

_CONSTANTS: dict[str, Any] = {
    "pi": sympy.pi,
    "e": sympy.E,
    "oo": sympy.oo,
    "i": sympy.I,
    "I": sympy.I,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": sympy.sqrt,
    "exp": sympy.exp,
    "log": sympy.log,
    "ln": sympy.log,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "binomial": sympy.binomial,
    "floor": sympy.floor,
    "ceiling": sympy.ceiling,
}
_ARITY = {"binomial": 2}
_SIMPLE = (
    ("\\left", ""), ("\\right", ""), ("\\cdot", "*"), ("\\times", "*"), ("\\div", "/"),
    ("\\pi", " pi "), ("\u03c0", " pi "), ("\\infty", " oo "), ("\u221e", " oo "),
    ("\\ln", " log "), ("\\log", " log "), ("\\exp", " exp "),
    ("\\sin", " sin "), ("\\cos", " cos "), ("\\tan", " tan "), ("\\,", " "), ("\\!", ""),
    ("\\;", " "), ("\\ ", " "), ("\\$", ""), ("$", ""), ("\u2212", "-"), ("\\%", ""),
    ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\cup", " U "),
    ("\\dbinom", "\\binom"), ("\\tbinom", "\\binom"), ("\\lfloor", " floor("),
    ("\\rfloor", ")"), ("\\lceil", " ceiling("), ("\\rceil", ")"),
)  # fmt: skip
_VECTOR = re.compile(r"\\(?:mathbf|boldsymbol|vec|overrightarrow)\s*\{?\s*[A-Za-z]")
_TEXT_COMMAND = re.compile(r"\\(?:text|mathrm|mathbf|boldsymbol|mbox|textbf)\s*\{([^{}]*)\}")


def _group(text: str, start: int) -> tuple[str, int]:
    """The braced group at ``start`` (or the single character there) and where it ends."""
    if start < len(text) and text[start] == "{":
        depth = 0
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                return text[start + 1 : i], i + 1
        raise ValueError("unbalanced braces")
    if start >= len(text):
        raise ValueError("a command lacks its argument")
    return text[start], start + 1


def latex_to_sympy_text(text: str, depth: int = 0) -> str:
    """Common LaTeX as the plain notation :class:`_Parser` reads: fractions, roots,
    powers, binomials, constants. Pure string work: nothing is evaluated."""
    if depth > _MAX_DEPTH:
        raise ValueError("nested too deeply")
    for old, new in _SIMPLE:
        text = text.replace(old, new)
    if _VECTOR.search(text):
        # Bold or arrowed letters are vectors, whose products do not commute.
        raise ValueError("vectors are not compared")
    text = _TEXT_COMMAND.sub(r"\1", text)
    out, i = [], 0
    while i < len(text):
        if text.startswith(("\\binom", "\\frac", "\\sqrt"), i):
            converted, i = _command(text, i, depth)
            out.append(converted)
        elif text[i] == "^" and text.startswith("{", _skip(text, i + 1)):
            power, i = _group(text, _skip(text, i + 1))
            out.append(f"^({latex_to_sympy_text(power, depth + 1)})")
        elif text[i] in "{}":
            out.append("(" if text[i] == "{" else ")")
            i += 1
        elif text[i] == "\\":
            raise ValueError(f"unsupported LaTeX command at {text[i : i + 12]!r}")
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _command(text: str, i: int, depth: int) -> tuple[str, int]:
    """``\\binom``, ``\\frac`` or ``\\sqrt`` at ``i`` with its arguments, converted, and
    where it ends."""
    if text.startswith("\\binom", i):
        top, i = _group(text, _skip(text, i + 6))
        bottom, i = _group(text, _skip(text, i))
        inner = latex_to_sympy_text(top, depth + 1), latex_to_sympy_text(bottom, depth + 1)
        return f"binomial(({inner[0]}), ({inner[1]}))", i
    if text.startswith("\\frac", i):
        top, i = _group(text, _skip(text, i + 5))
        bottom, i = _group(text, _skip(text, i))
        inner = latex_to_sympy_text(top, depth + 1), latex_to_sympy_text(bottom, depth + 1)
        return f"(({inner[0]})/({inner[1]}))", i
    i = _skip(text, i + 5)
    degree = "2"
    if i < len(text) and text[i] == "[":
        end = text.find("]", i)
        if end == -1:
            raise ValueError("unclosed [")
        degree, i = latex_to_sympy_text(text[i + 1 : end], depth + 1), end + 1
    body, i = _group(text, _skip(text, i))
    return f"(({latex_to_sympy_text(body, depth + 1)})^(1/({degree})))", i


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] == " ":
        i += 1
    return i


# -- the closed grammar -----------------------------------------------------------------

_TOKEN = re.compile(
    r"(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d{1,5})?)|(?P<name>[^\W\d_]+)"
    r"|(?P<op>\*\*|[-+*/^!(),\[\]]))"
)


def tokenize(text: str) -> list[tuple[str, str]]:
    """``(kind, text)`` pairs, kind one of number, name, op; ValueError on anything else
    (quotes, underscores, dots outside numbers, ``=``...). One pass, linear."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return tokens
        found = _TOKEN.match(text, i)
        if found is None:
            raise ValueError(f"unexpected {text[i : i + 10]!r}")
        kind = found.lastgroup
        assert kind is not None
        tokens.append((kind, found[kind]))
        i = found.end()


class _Parser:
    """Recursive descent over :func:`tokenize`'s tokens, building sympy objects::

        sum     := product (("+" | "-") product)*
        product := unary (("*" | "/")? unary)*      (juxtaposition multiplies)
        unary   := ("+" | "-") unary | power
        power   := postfix (("^" | "**") unary)?    (right-associative)
        postfix := atom "!"*
        atom    := number | constant | symbol | function "(" sum ("," sum)* ")"
                 | function power | "(" sum ")"

    A name of two letters that is not a constant or a function is their product (``xy``
    is ``x*y``); a longer unknown name is a word and does not parse. Juxtaposition
    multiplies, except that no number may follow a name, a number or a closing bracket
    (``x2``, ``H2O``, ``2 3``), and ``!!`` is refused (double factorial or two?).
    """

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.at = 0
        self.depth = 0

    def parse(self) -> Any:
        value = self.sum()
        if self.at != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.at][1]!r}")
        return value

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def peek_kind(self) -> str | None:
        token = self.peek()
        return token[0] if token else None

    def take(self, op: str) -> bool:
        if self.peek() == ("op", op):
            self.at += 1
            return True
        return False

    def expect(self, op: str) -> None:
        if not self.take(op):
            raise ValueError(f"expected {op!r}")

    def sum(self) -> Any:
        value = self.product()
        while True:
            if self.take("+"):
                value = value + self.product()
            elif self.take("-"):
                value = value - self.product()
            else:
                return value

    def product(self) -> Any:
        value = self.unary()
        while True:
            if self.take("*"):
                value = value * self.unary()
            elif self.take("/"):
                value = value / self.unary()
            elif self._starts_atom():
                # "2 3", "x2", "(a)2" and "H2O" are not products anyone writes.
                if self.peek_kind() == "number":
                    raise ValueError("a number after a name, a number or a bracket")
                value = value * self.power()
            else:
                return value

    def _starts_atom(self) -> bool:
        token = self.peek()
        return token is not None and (token[0] != "op" or token[1] == "(")

    def unary(self) -> Any:
        if self.take("-"):
            return -self.nested(self.unary)
        if self.take("+"):
            return self.nested(self.unary)
        return self.power()

    def power(self) -> Any:
        base = self.postfix()
        if self.take("^") or self.take("**"):
            exponent = self.nested(self.unary)
            return _bounded_power(base, exponent)
        return base

    def postfix(self) -> Any:
        value = self.atom()
        while self.take("!"):
            if self.peek() == ("op", "!"):
                raise ValueError("'!!' is ambiguous (a double factorial or two factorials)")
            if not (value.is_Integer and 0 <= value <= _MAX_FACTORIAL):
                raise ValueError("a factorial of something other than a small natural number")
            value = sympy.factorial(value)
        return value

    def atom(self) -> Any:
        token = self.peek()
        if token is None:
            raise ValueError("the answer ends too soon")
        kind, text = token
        self.at += 1
        if kind == "number":
            return _number(text)
        if kind == "name":
            return self.name(text)
        if text == "(":
            value = self.nested(self.sum)
            self.expect(")")
            return value
        raise ValueError(f"unexpected {text!r}")

    def name(self, text: str) -> Any:
        if text in _FUNCTIONS:
            return self.call(text)
        if text in _CONSTANTS:
            return _CONSTANTS[text]
        if len(text) > 2:  # a word, not a product of letters ("east" is not "seat")
            raise ValueError(f"an unknown name {text[:20]!r}")
        value = sympy.Integer(1)
        for letter in text:
            value = value * _CONSTANTS.get(letter, sympy.Symbol(letter))
        return value

    def call(self, function: str) -> Any:
        if not self.take("("):  # "sin x", "log 2": applied to the next power
            if _ARITY.get(function, 1) != 1:
                raise ValueError(f"{function} takes brackets")
            return _FUNCTIONS[function](self.nested(self.power))
        args = [self.nested(self.sum)]
        while self.take(","):
            args.append(self.nested(self.sum))
        self.expect(")")
        if len(args) != _ARITY.get(function, 1):
            raise ValueError(f"{function} takes {_ARITY.get(function, 1)} argument(s)")
        return _FUNCTIONS[function](*args)

    def nested(self, rule: Callable[[], Any]) -> Any:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise ValueError("nested too deeply")
        try:
            return rule()
        finally:
            self.depth -= 1


def _number(text: str) -> Any:
    """A number exactly: ``0.5`` is 1/2, ``1e3`` is 1000 (small exponents only)."""
    mantissa, _, exponent = text.lower().partition("e")
    value = sympy.Rational(mantissa if mantissa != "." else "0")
    if exponent:
        power = int(exponent)
        if abs(power) > _MAX_EXPONENT:
            raise ValueError("an exponent too large")
        value = value * sympy.Integer(10) ** power
    return value


def _bounded_power(base: Any, exponent: Any) -> Any:
    """``base ** exponent``, refused where sympy would compute a huge exact number."""
    if exponent.is_Number and base.is_Number:
        big = abs(exponent) > _MAX_EXPONENT
        if big and abs(base) not in (0, 1):
            raise ValueError("a power too large")
    if exponent.is_Number and not exponent.is_Integer and abs(exponent) > _MAX_EXPONENT:
        raise ValueError("a power too large")
    if exponent.is_Integer and abs(exponent) > _MAX_EXPONENT and not base.is_Number:
        raise ValueError("a power too large")
    return base**exponent


def parse_math(text: str) -> Any:
    """One expression in plain notation as a sympy object (see :class:`_Parser`)."""
    return _Parser(tokenize(text)).parse()


# -- answers: expressions, tuples, sets, intervals, unions, equations --------------------


def to_sympy(text: str) -> Any:
    """An expression, a tuple (``(1, 2)``), an interval (``[1, 2)``), a set (``\\{1, 2\\}``
    or ``{1, 2}``), a union of intervals or an equation (``y = 2x + 1``), as sympy
    objects. The LaTeX is converted once, then the structure read from the plain text."""
    text = text.strip().rstrip(".").strip()
    for opening, closing in (("\\{", "\\}"), ("{", "}")):
        inner = text[len(opening) : -len(closing)]
        braced = text.startswith(opening) and text.endswith(closing) and _balanced(inner)
        if braced and (opening == "\\{" or _top_level_commas(inner)):
            return sympy.FiniteSet(*(to_sympy(part) for part in _split(inner)))
    return _structure(latex_to_sympy_text(text).strip())


def _structure(text: str, *, intervals: bool = False) -> Any:
    """:func:`to_sympy` on converted text. With ``intervals`` (the parts of a union),
    ``(a, b)`` is the open interval, not a pair."""
    if text.count("=") == 1:
        left, right = text.split("=")
        return sympy.Eq(parse_math(left), parse_math(right), evaluate=False)
    if " U " in text:
        return sympy.Union(
            *(_structure(part.strip(), intervals=True) for part in text.split(" U "))
        )
    if len(text) > 1 and text[0] in "([" and text[-1] in ")]" and _top_level_commas(text[1:-1]):
        parts = [parse_math(part) for part in _split(text[1:-1])]
        if text[0] == "(" and text[-1] == ")" and not (intervals and len(parts) == 2):
            return sympy.Tuple(*parts)
        if len(parts) == 2:
            return sympy.Interval(parts[0], parts[1], text[0] == "(", text[-1] == ")")
        raise ValueError("an interval has two ends")
    if "," in text and _top_level_commas(text):
        return sympy.Tuple(*(parse_math(part) for part in _split(text)))
    return parse_math(text)


def _balanced(text: str) -> bool:
    """Whether the brackets of ``text`` never close more than they opened, and all
    close: ``{1}, {2}`` is not one braced set."""
    depth = 0
    for char in text:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _top_level_commas(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            return True
    return False


def _split(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    return [*parts, "".join(current)]


def equivalent(a: Any, b: Any) -> bool:
    """Mathematical equality of two parsed answers (see :func:`to_sympy`), exact both
    ways: tuples element by element, sets and unions as mutual inclusion, intervals by
    their ends and openness, equations as the same relation (one side minus the other
    a nonzero constant multiple of the other's)."""
    for kind in (sympy.Tuple, sympy.Set, sympy.Eq):
        if isinstance(a, kind) != isinstance(b, kind):
            return False
    if isinstance(a, sympy.Tuple):
        return len(a) == len(b) and all(equivalent(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, sympy.Eq):
        return _same_equation(a, b)
    if isinstance(a, sympy.Set):
        return _same_set(a, b)
    return same_value(a, b)


def _same_set(a: Any, b: Any) -> bool:
    if isinstance(a, sympy.Interval) and isinstance(b, sympy.Interval):
        return (
            same_value(a.start, b.start)
            and same_value(a.end, b.end)
            and (a.left_open, a.right_open) == (b.left_open, b.right_open)
        )
    for kind in (sympy.FiniteSet, sympy.Union):
        if isinstance(a, kind) and isinstance(b, kind):
            parts_a, parts_b = list(a.args), list(b.args)
            return all(any(equivalent(x, y) for y in parts_b) for x in parts_a) and all(
                any(equivalent(x, y) for x in parts_a) for y in parts_b
            )
    return bool(a == b)


def _same_equation(a: Any, b: Any) -> bool:
    left, right = a.lhs - a.rhs, b.lhs - b.rhs
    if right == 0 or left == 0:
        return bool(left == right)
    ratio = sympy.simplify(left / right)
    return bool(not ratio.free_symbols and ratio.is_finite and ratio != 0)


def same_value(a: Any, b: Any) -> bool:
    """Exact equality of two expressions. An expression with symbols must simplify to
    zero; a constant difference must be exactly zero: a rational by arithmetic, an
    algebraic number by its minimal polynomial, a transcendental one (with ``pi``,
    ``e``, logarithms) when sympy's evaluation finds no nonzero digit of it to 400
    digits of working precision (the one undecidable case, and no tolerance)."""
    if a == b:  # the same structure (oo is oo, though oo - oo is nan)
        return True
    difference = sympy.simplify(a - b)
    if difference == 0:
        return True
    if difference.free_symbols:
        return bool(sympy.expand(difference) == 0)
    return _constant_is_zero(difference)


def _constant_is_zero(difference: Any) -> bool:
    """Whether a constant, simplified, is exactly zero (see :func:`same_value`)."""
    if difference.is_Rational or difference.is_infinite or difference is sympy.nan:
        return False
    if difference.is_algebraic:
        x = sympy.Symbol("x")
        return bool(sympy.minimal_polynomial(difference, x) == x)
    # A transcendental difference: evaluated to 60 correct digits it is either a
    # nonzero number (so not equal, however tiny: e^{-300} is not 0), or sympy cannot
    # get any digit of it because it cancels to zero at every precision it tries.
    try:
        value = difference.evalf(60, strict=True, maxn=400)
    except PrecisionExhausted:
        return True
    return bool(value == 0)


def rounds_to(given: str, reference: Any) -> bool:
    """Whether ``given``, a plain decimal of ten or more significant digits, is ``reference`` (an
    irrational real constant) rounded or cut to those places, as ``1.414`` is for
    ``\\sqrt{2}``: the one place where a value is compared inexactly, because one side
    was written inexactly. (Rationals never get here: their decimals are compared by
    :func:`taskgym.envs.math.answers.numbers_match`.)"""
    found = re.fullmatch(r"\s*([-+]?\d+)\.(\d{1,40})\s*", given)
    if found is None or not getattr(reference, "is_number", False) or reference.is_Rational:
        return False
    if len((found[1] + found[2]).lstrip("+-0")) < _MIN_DIGITS:
        return False
    if not reference.is_real:
        return False
    places = len(found[2])
    value = sympy.Rational(f"{found[1]}.{found[2]}")
    scale = sympy.Integer(10) ** places
    exact = sympy.N(reference * scale, places + 30)
    cut = sympy.Integer(int(sympy.floor(abs(exact))))
    rounded = sympy.Integer(int(sympy.floor(abs(exact) + sympy.Rational(1, 2))))
    sign = -1 if exact < 0 else 1
    return value in (sign * cut / scale, sign * rounded / scale)


def in_form(expression: Any, form: str | None) -> bool:
    """Whether ``expression`` (as written, before any simplification) is in ``form``:
    ``expanded``, a sum of monomials (expanding it changes nothing); ``factored``, a
    product of factors none of which is a sum of degree above one."""
    if form is None:
        return True
    symbols = sorted(expression.free_symbols, key=str)
    if not expression.is_polynomial(*symbols):  # binomials, sines: not a polynomial's form
        return False
    if form == "expanded":
        return bool(sympy.expand(expression) == expression)
    if form == "factored":
        factors = [
            f.base if isinstance(f, sympy.Pow) else f for f in sympy.Mul.make_args(expression)
        ]
        return all(f.is_polynomial(*symbols) and _degree(f) <= 1 for f in factors)
    raise ValueError(f"unknown form {form!r}")


def _degree(expression: Any) -> int:
    symbols = sorted(expression.free_symbols, key=str)
    return int(sympy.Poly(expression, *symbols).total_degree()) if symbols else 0


def decide(given_text: str, reference_text: str, form: str | None) -> bool:
    """The verdict on one request."""
    if len(given_text) > MAX_CHARS or len(reference_text) > MAX_CHARS:
        return False
    given, reference = to_sympy(given_text), to_sympy(reference_text)
    if not in_form(given, form):
        return False
    if equivalent(given, reference):
        return True
    # A decimal on either side may stand for an irrational constant on the other.
    return form is None and (rounds_to(given_text, reference) or rounds_to(reference_text, given))


def _cap_resources() -> None:
    """Memory and open files: a request that makes sympy build something huge fails
    in this process, not in the host's memory."""
    import resource  # noqa: PLC0415 - POSIX only, and only here

    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_BYTES, _MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


def main() -> None:
    reply_fd = int(sys.argv[1])
    replies = os.fdopen(reply_fd, "w", encoding="utf-8", buffering=1)
    _cap_resources()
    replies.write(json.dumps({"ready": True}) + "\n")  # sympy is loaded: time starts now
    for line in sys.stdin:
        request: dict[str, Any] = {}
        try:
            request = json.loads(line)
            same = decide(request["given"], request["reference"], request.get("form"))
            reply: dict[str, Any] = {"equal": bool(same)}
        except Exception as e:  # an answer that does not parse is not equal
            reply = {"error": f"{type(e).__name__}: {e}"[:300]}
        reply["id"] = str(request.get("id", "")) if isinstance(request, dict) else ""
        replies.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main()
