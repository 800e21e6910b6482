"""The process that decides symbolic equivalence with sympy, apart from the caller: sympy
can take unbounded time on hostile input, and only a process can be stopped mid-call.

Protocol: one JSON object a line on stdin, ``{"given": str, "reference": str, "form":
null | "expanded" | "factored"}``; one a line on stdout, ``{"equal": bool}`` or
``{"error": str}`` (either side does not parse). With a ``form``, the given answer must
also be written in it (see :func:`in_form`).
Run as ``python -m taskgym.envs.math.sympy_worker``; :class:`SymbolicChecker` in
:mod:`taskgym.envs.math.symbolic` drives it with a time limit a call.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import sympy
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication_application,
    parse_expr,
    standard_transformations,
)

_TRANSFORMS = (*standard_transformations, implicit_multiplication_application, convert_xor)
_NAMES = {"pi": sympy.pi, "e": sympy.E, "oo": sympy.oo, "i": sympy.I, "I": sympy.I}
_NAMES.update({name: getattr(sympy, name) for name in ("sqrt", "exp", "log", "sin", "cos", "tan")})
_NAMES.update({"binomial": sympy.binomial, "floor": sympy.floor, "ceiling": sympy.ceiling})
_SIMPLE = (
    ("\\left", ""), ("\\right", ""), ("\\cdot", "*"), ("\\times", "*"), ("\\div", "/"),
    ("\\pi", " pi "), ("\\infty", " oo "), ("\\ln", " log "), ("\\log", " log "),
    ("\\sin", " sin "), ("\\cos", " cos "), ("\\tan", " tan "), ("\\,", " "), ("\\!", ""),
    ("\\;", " "), ("\\ ", " "), ("\\$", ""), ("$", ""), ("\u2212", "-"), ("\\%", ""),
    ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\cup", " U "),
    ("\\dbinom", "\\binom"), ("\\tbinom", "\\binom"), ("\\lfloor", " floor("),
    ("\\rfloor", ")"), ("\\lceil", " ceiling("), ("\\rceil", ")"),
)  # fmt: skip


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


def latex_to_sympy_text(text: str) -> str:
    """Common LaTeX as text sympy's parser reads: fractions, roots, powers, constants."""
    for old, new in _SIMPLE:
        text = text.replace(old, new)
    text = re.sub(r"\\(?:text|mathrm|mathbf|boldsymbol|mbox|textbf)\s*\{([^{}]*)\}", r"\1", text)
    out, i = [], 0
    while i < len(text):
        if text.startswith("\\binom", i):
            top, i = _group(text, _skip(text, i + 6))
            bottom, i = _group(text, _skip(text, i))
            out.append(f"binomial(({latex_to_sympy_text(top)}), ({latex_to_sympy_text(bottom)}))")
        elif text.startswith("\\frac", i):
            top, i = _group(text, _skip(text, i + 5))
            bottom, i = _group(text, _skip(text, i))
            out.append(f"(({latex_to_sympy_text(top)})/({latex_to_sympy_text(bottom)}))")
        elif text.startswith("\\sqrt", i):
            i = _skip(text, i + 5)
            degree = "2"
            if i < len(text) and text[i] == "[":
                end = text.index("]", i)
                degree, i = latex_to_sympy_text(text[i + 1 : end]), end + 1
            body, i = _group(text, _skip(text, i))
            out.append(f"(({latex_to_sympy_text(body)})**(1/({degree})))")
        elif text[i] == "^":
            power, i = _group(text, _skip(text, i + 1))
            out.append(f"**({latex_to_sympy_text(power)})")
        elif text[i] in "{}":
            out.append("(" if text[i] == "{" else ")")
            i += 1
        elif text[i] == "\\":
            raise ValueError(f"unsupported LaTeX command at {text[i : i + 12]!r}")
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] == " ":
        i += 1
    return i


def to_sympy(text: str, *, intervals: bool = False) -> Any:
    """An expression, a tuple (``(1, 2)``), an interval (``[1, 2)``), a set (``\\{1, 2\\}``)
    or a union of intervals, as sympy objects. With ``intervals`` (the parts of a union),
    ``(a, b)`` is the open interval, not a pair."""
    text = text.strip().rstrip(".").strip()
    if text.startswith("\\{") and text.endswith("\\}"):
        return sympy.FiniteSet(*(to_sympy(part) for part in _split(text[2:-2])))
    text = latex_to_sympy_text(text).strip()
    if " U " in text:
        return sympy.Union(*(to_sympy(part, intervals=True) for part in text.split(" U ")))
    if len(text) > 1 and text[0] in "([" and text[-1] in ")]" and _top_level_commas(text[1:-1]):
        parts = [to_sympy(part) for part in _split(text[1:-1])]
        if text[0] == "(" and text[-1] == ")" and not (intervals and len(parts) == 2):
            return sympy.Tuple(*parts)
        if len(parts) == 2:
            return sympy.Interval(parts[0], parts[1], text[0] == "(", text[-1] == ")")
        raise ValueError("an interval has two ends")
    if "," in text and _top_level_commas(text):
        return sympy.Tuple(*(to_sympy(part) for part in _split(text)))
    return parse_expr(text, local_dict=dict(_NAMES), transformations=_TRANSFORMS, evaluate=True)


def _top_level_commas(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            return True
    return False


def _split(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def equivalent(a: Any, b: Any) -> bool:
    """Mathematical equality of two parsed answers (see :func:`to_sympy`)."""
    if isinstance(a, sympy.Tuple) or isinstance(b, sympy.Tuple):
        return (
            isinstance(a, sympy.Tuple)
            and isinstance(b, sympy.Tuple)
            and len(a) == len(b)
            and all(equivalent(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, sympy.Set) or isinstance(b, sympy.Set):
        return bool(isinstance(a, sympy.Set) and isinstance(b, sympy.Set) and a == b) or bool(
            isinstance(a, sympy.FiniteSet)
            and isinstance(b, sympy.FiniteSet)
            and len(a) == len(b)
            and all(any(equivalent(x, y) for y in b) for x in a)
        )
    difference = sympy.simplify(a - b)
    if difference == 0:
        return True
    if difference.free_symbols:
        return False
    value = complex(sympy.N(difference, 30))
    scale = max(1.0, abs(complex(sympy.N(b, 30))))
    return abs(value) <= 1e-9 * scale


def in_form(expression: Any, form: str | None) -> bool:
    """Whether ``expression`` (as written, before any simplification) is in ``form``:
    ``expanded``, a sum of monomials (expanding it changes nothing); ``factored``, a
    product of factors none of which is a sum of degree above one."""
    if form is None:
        return True
    if form == "expanded":
        return bool(sympy.expand(expression) == expression)
    if form == "factored":
        factors = [
            f.base if isinstance(f, sympy.Pow) else f for f in sympy.Mul.make_args(expression)
        ]
        return all(_degree(f) <= 1 for f in factors)
    raise ValueError(f"unknown form {form!r}")


def _degree(expression: Any) -> int:
    symbols = sorted(expression.free_symbols, key=str)
    return int(sympy.Poly(expression, *symbols).total_degree()) if symbols else 0


def main() -> None:
    for line in sys.stdin:
        try:
            request = json.loads(line)
            given, reference = to_sympy(request["given"]), to_sympy(request["reference"])
            same = in_form(given, request.get("form")) and equivalent(given, reference)
            reply: dict[str, Any] = {"equal": bool(same)}
        except Exception as e:  # an answer that does not parse is not equal
            reply = {"error": f"{type(e).__name__}: {e}"[:300]}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
