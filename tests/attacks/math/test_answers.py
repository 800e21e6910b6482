"""Attacks on the math answer graders with nothing but the agent's text: make the host
evaluate it, forge the symbolic worker's verdict, hang or crash the grader, and pass a
near miss for the answer. Each attack earns nothing and raises nothing; the ones that
broke through once (code run by sympy's parser on the host, a forged verdict line, a
patched worker, one root and its near copy taken for a set of two, tiny values compared
with an absolute tolerance, quadratic scans) are marked so.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import taskgym  # noqa: F401 - registers the envs
from taskgym.envs.common import confined
from taskgym.envs.math import symbolic, sympy_worker
from taskgym.envs.math.answers import answers_match, find_answer, parse_number
from tests.helpers import confined_worker

needs_sympy = pytest.mark.skipif(
    symbolic.sympy_missing() is not None, reason="sympy is not installed: pip install sympy"
)

# Python that a string evaluator would run: each writes the marker file, or prints a
# line shaped like the worker's verdict, or patches the worker so later answers pass.
HOST_CODE = [
    "exec(\"open('{marker}', 'w').write('pwned')\")",
    "__import__('os').system('touch {marker}')",
    "open('{marker}', 'w')",
    "(lambda: open('{marker}', 'w'))()",
    "[open('{marker}', 'w') for _ in 'a']",
    "().__class__.__base__.__subclasses__()",
    "Symbol('x').__class__",
    "print('{{\"equal\": true}}')",
    'print(\'{{"equal": true, "id": ""}}\')',
    'exec("import sympy_worker; sympy_worker.equivalent = lambda a, b: True")',
    "exec(\"__import__('sys').modules['__main__'].decide = lambda *a: True\")",
    "globals()['same_value'].__code__",
    "x if 1 else open('{marker}', 'w')",
    "eval('1')",
]


@pytest.fixture(scope="module")
def checker() -> Iterator[symbolic.SymbolicChecker]:
    if symbolic.sympy_missing() is not None:
        pytest.skip("sympy is not installed: pip install sympy")
    with symbolic.SymbolicChecker(seconds=5.0) as made:
        yield made


def _answers_file(tmp_path: Path, answer: str) -> str:
    path = tmp_path / "answers.jsonl"
    path.write_text(json.dumps({"id": "p", "problem": "What is it?", "answer": answer}) + "\n")
    return str(path)


def _gsm8k_file(tmp_path: Path) -> str:
    path = tmp_path / "gsm8k.jsonl"
    record = {"question": "Two and three?", "answer": "2 + 3 = 5\n#### 5"}
    path.write_text(json.dumps(record) + "\n")
    return str(path)


def _short(text: object) -> str:
    """A test id for a long hostile text: its start and its length."""
    text = str(text)
    return text if len(text) <= 24 else f"{text[:16]}...({len(text)})"


def _envs(tmp_path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every env whose answers reach the symbolic checker, on a problem whose answer is
    an expression (so that the checker is asked)."""
    return [
        ("taskgym/MathAnswers-v0", {"tasks": _answers_file(tmp_path, "2x + 2")}),
        ("taskgym/MathAnswers-v0", {"tasks": _answers_file(tmp_path, "\\{1, 2\\}")}),
        ("taskgym/GSM8K-v0", {"tasks": _gsm8k_file(tmp_path)}),
        ("taskgym/MathGenSymbolic-v0", {}),
        ("taskgym/MathGen-v0", {"kinds": ["quadratic", "expand"]}),
    ]


def _play(env_id: str, options: dict[str, Any], action: str, seed: int = 0) -> float:
    env = gym.make(env_id, **options)
    try:
        env.reset(seed=seed)
        reward = env.step(action)[1]
    finally:
        env.close()
    return float(reward)


@needs_sympy
@pytest.mark.parametrize("code", HOST_CODE)
def test_an_answer_that_is_python_is_never_run_and_earns_nothing(tmp_path: Path, code: str) -> None:
    """Broke through once: sympy's parse_expr evaluated the answer on the host (a file
    written as root; a printed line taken for the verdict; a patch that made later
    wrong answers pass)."""
    marker = tmp_path / "marker"
    for env_id, options in _envs(tmp_path):
        action = "\\boxed{" + code.format(marker=marker) + "}"
        assert _play(env_id, options, action) == 0.0, (env_id, action)
        assert not marker.exists(), (env_id, action)
    # Nothing was patched: a wrong answer still earns nothing, a right one still pays.
    tasks = _answers_file(tmp_path, "2x + 2")
    assert _play("taskgym/MathAnswers-v0", {"tasks": tasks}, "\\boxed{2x + 3}") == 0.0
    assert _play("taskgym/MathAnswers-v0", {"tasks": tasks}, "\\boxed{2(x + 1)}") == 1.0


def test_the_worker_has_no_path_to_an_evaluator() -> None:
    """The worker's source calls no string evaluator: not eval/exec/compile, not sympy's
    parse_expr, sympify or S, not __import__."""
    tree = ast.parse(Path(sympy_worker.__file__).read_text(encoding="utf-8"))
    builtin_evaluators = {"eval", "exec", "compile", "__import__", "sympify", "S"}
    sympy_evaluators = {"parse_expr", "sympify", "S", "parse_latex"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                assert func.id not in builtin_evaluators, (node.lineno, func.id)
            elif isinstance(func, ast.Attribute):
                assert func.attr not in sympy_evaluators, (node.lineno, func.attr)
        if isinstance(node, ast.ImportFrom):
            assert "parsing" not in (node.module or ""), "sympy's parsers evaluate text"


@needs_sympy
def test_no_answer_text_reaches_an_evaluator(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's decision, run in this process with every string Python's eval and
    exec see recorded, on the hostile answers and on the labelled benchmark set: none of
    those strings holds the text of an answer. (sympy's polynomial code evaluates
    templates of its own, which is why strings are recorded, not refused.)"""
    from bench.math_pairs import build_pairs

    evaluated: list[str] = []

    def recording(original: Any) -> Any:
        def evaluate(source: object, *args: object, **kwargs: object) -> Any:
            if isinstance(source, str):
                evaluated.append(source)
            return original(source, *args, **kwargs)

        return evaluate

    answers = [code.format(marker="/tmp/marker") for code in HOST_CODE]
    for pair in build_pairs():
        found = find_answer(pair.answer)
        if found is not None and parse_number(found.text) is None and len(found.text) >= 8:
            answers.append(found.text)
    monkeypatch.setattr(builtins, "eval", recording(builtins.eval))
    monkeypatch.setattr(builtins, "exec", recording(builtins.exec))
    for answer in answers:
        with contextlib.suppress(Exception):  # a text that does not parse is not equal
            sympy_worker.decide(answer, "x + 1", None)
    monkeypatch.undo()
    assert len(answers) > 20
    leaked = [a for a in answers if any(a in source for source in evaluated)]
    assert not leaked


@needs_sympy
def test_a_reply_that_does_not_carry_the_request_id_is_not_a_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A line shaped like a verdict, without the request's id, is refused (the worker
    started over), so no printed text can stand in for the grader's reply."""
    with symbolic.SymbolicChecker() as made:
        assert made.equal("2x", "x + x")
        forged = '{"equal": true}'
        monkeypatch.setattr(confined._Process, "read_line", lambda self, deadline: forged)
        assert not made.equal("2x", "x + 3")
        assert made.timeouts == 1
        monkeypatch.undo()
        assert made.equal("3x", "x + 2x")


@needs_sympy
@pytest.mark.parametrize(
    ("given", "reference"),
    [
        ("\\{2, 2.0000000001\\}", "\\{2, 3\\}"),  # one root and a near copy (broke through)
        ("\\{2, 2\\}", "\\{2, 3\\}"),
        ("\\{2\\}", "\\{2, 3\\}"),
        ("\\{2, 3, 4\\}", "\\{2, 3\\}"),
        ("(1, 2)", "(2, 1)"),
        ("(1, 2, 3)", "(1, 2)"),
        ("[0, 1]", "[0, 1)"),
        ("(0, 1]", "[0, 1]"),
        ("[0, 1.0000000001]", "[0, 1]"),
        ("(-\\infty, 2) \\cup (3, \\infty)", "(-\\infty, 2) \\cup (3, 4)"),
        ("(-\\infty, 2)", "(-\\infty, 2) \\cup (3, \\infty)"),
        ("y = 2x + 1", "y = 2x"),
        ("x = 1", "x^2 = 1"),
        ("\\frac{1}{2004!}", "\\frac{1}{2006!}"),  # tiny values (broke through)
        ("10^{20} + 1", "10^{20}"),
        ("10^{-30}", "0"),
        ("\\pi + 10^{-60}", "\\pi"),
        ("3.14159", "\\pi"),
        ("\\sqrt{2} + 10^{-40}", "\\sqrt{2}"),
        ("\\pm 3", "3"),
        ("\\pm 3", "\\{-3, 3\\}"),
        ("2x + 2.0000000001", "2x + 2"),
        ("x + y", "xy"),
        # Found by a red team with only the action text (near misses that broke through):
        ("6", "6x"),  # a reference's variable was read as a unit and dropped
        ("6y", "6x"),
        ("6x^9", "6x"),
        ("3x^5", "3x^2"),
        ("6i", "6"),
        ("6 pi", "6"),
        ("6x^2", "6"),
        ("7 weeks", "7 days"),  # units that disagree
        ("10 AM", "10 PM"),
        ("30 radians", "30^\\circ"),
        ("5 or six or seven", "5"),  # alternatives after the first number
        ("5 million", "5"),
        ("5 squared", "5"),
        ("1001 thousand", "1001"),
        ("4.9999999999999999999999999999999999999999999999999999+e^{-300}", "5"),
        ("5+e^{-200}", "5"),  # a transcendental near miss
        ("\\{2, 7+e^{-300}\\}", "\\{2, 7\\}"),
        ("\\{2, 7, 7+e^{-300}, 2-e^{-400}\\}", "\\{2, 7\\}"),
        ("thorn-stea", "north-east"),  # words read as products of letters
        ("HO2", "H2O"),
        ("2OH", "H2O"),
        ("2CO", "CO2"),
        ("g \\circ f", "f \\circ g"),  # composition is not a product
        ("\\mathbf{v} \\times \\mathbf{u}", "\\mathbf{u} \\times \\mathbf{v}"),
        ("2^10", "0"),  # an unbraced power took one digit
        ("10^23", "300"),
        ("x^23", "3x^2"),
        ("3!!", "720"),  # a double factorial read as two factorials
        ("\\sqrt{-1}", "I"),  # a choice read as the imaginary unit
    ],
)
def test_near_misses_are_not_equal(
    checker: symbolic.SymbolicChecker, given: str, reference: str
) -> None:
    assert not answers_match(given, reference, checker)


@needs_sympy
@pytest.mark.parametrize(
    ("given", "reference"),
    [
        ("\\{3, 2\\}", "\\{2, 3\\}"),
        ("\\{2, 2, 3\\}", "\\{2, 3\\}"),  # a set lists each element once, however written
        ("\\{\\frac{4}{2}, 3\\}", "\\{2, 3\\}"),
        ("[0, \\infty)", "[0, \\infty)"),
        ("2x - y + 1 = 0", "y = 2x + 1"),
        ("\\frac{\\sqrt{8}}{2}", "\\sqrt{2}"),
        ("\\sqrt{3} + \\sqrt{2}", "\\sqrt{5 + 2\\sqrt{6}}"),
        ("1.4142135624", "\\sqrt{2}"),
        ("e^{i\\pi}", "-1"),
        ("\\frac{1}{2006!}", "\\frac{2005 \\cdot 2006}{2006!} \\cdot \\frac{1}{2005 \\cdot 2006}"),
        # Found by a red team with only the action text (false negatives that broke through):
        ("2^10", "1024"),  # a plain-text power, unbraced
        ("x^(1/2)", "\\sqrt{x}"),
        ("(1, 8)", "(1, 2^{3})"),  # LaTeX inside a tuple was converted twice
        ("(1,2^{3})", "(1, 2^{3})"),
        ("(\\sqrt{2}, 1)", "(\\sqrt{2}, 1)"),
        ("[0, \\sqrt{2})", "[0, \\sqrt{2})"),
        ("y = x^{2}", "y = x^2"),
        ("{2, 7}", "\\{7, 2\\}"),  # a set written with plain braces
        ("7", "7 days"),
        ("7 days", "7 day"),
        ("12 eggs", "12"),
        ("(B)", "B"),
        ("\\ln 8", "3\\ln 2"),
        ("\\ln(2+\\sqrt{3}) + \\ln(2-\\sqrt{3})", "0"),
    ],
)
def test_equal_answers_are_still_equal(
    checker: symbolic.SymbolicChecker, given: str, reference: str
) -> None:
    assert answers_match(given, reference, checker)


@needs_sympy
@pytest.mark.parametrize(
    "given",
    [
        "1e100000000",  # had the number parser compute a power of ten (broke through)
        "10^{10^{10}}",
        "2^{2^{2^{2^{2}}}}",
        "(10^{4000})!",
        "x^{100000}",
        "\\frac{" * 200 + "1" + "}{2}" * 200,
        "(" * 400 + "1" + ")" * 400,
        "9" * 4400,  # past Python's 4,300-digit limit on int()
        "1" + "0" * 499,
    ],
    ids=_short,
)
def test_hostile_numbers_are_refused_in_bounded_time(
    checker: symbolic.SymbolicChecker, given: str
) -> None:
    start = time.monotonic()
    assert not answers_match(given, "5", checker)
    assert not answers_match(given, "x + 1", checker)
    assert time.monotonic() - start < 10


@pytest.mark.parametrize(
    "text",
    [
        "<answer>" * 140_000,  # quadratic in the old regular expression (broke through)
        "<ANSWER>1" * 100_000 + "</answer>",
        "#### " + " " * 500_000 + "x",
        "####" * 250_000,
        "the answer is " * 70_000,
        "\\boxed{" * 140_000,
        "{" * 1_000_000,
    ],
    ids=_short,
)
def test_finding_the_answer_in_a_megabyte_takes_linear_time(text: str) -> None:
    start = time.monotonic()
    find_answer(text)
    assert time.monotonic() - start < 5


def test_answer_tags_are_read_as_before() -> None:
    assert find_answer("<answer>1<answer>2</answer>")
    found = find_answer("<answer>1<answer>2</answer>")
    assert found is not None and found.text == "1<answer>2"
    found = find_answer("<Answer>3</ANSWER> and <answer>4</answer> <answer></answer>")
    assert found is not None and found.text == "4"
    assert find_answer("<answer>5") is None


@needs_sympy
@pytest.mark.parametrize(
    "action",
    [
        "\\boxed{print(1)}",  # made a step raise CheckerError (broke through)
        "\\boxed{" + "9" * 4400 + "}",
        "<answer>" + "1" * 5000 + "</answer>",
        "\\boxed{\\undefinedcommand{1}}",
        "\\boxed{" + "\\frac{1}{" * 300 + "}" * 300 + "}",
        "\\boxed{\x00\udcff}",
        "\\boxed{1e100000000}",
    ],
    ids=_short,
)
def test_hostile_answers_earn_nothing_and_never_raise(tmp_path: Path, action: str) -> None:
    for env_id, options in _envs(tmp_path):
        assert _play(env_id, options, action) == 0.0, (env_id, action[:40])


def test_arithmetic_answers_are_bounded_too() -> None:
    for env_id in ("taskgym/Arithmetic-v0", "taskgym/ArithmeticHard-v0"):
        for action in ("9" * 4400, "<answer>" * 100_000, "1e100000000", "1/" + "0" * 5000):
            start = time.monotonic()
            assert _play(env_id, {}, action) == 0.0
            assert time.monotonic() - start < 5


@needs_sympy
def test_the_worker_is_confined_where_bubblewrap_works() -> None:
    """The second wall: were the parser ever to run something, it would run with no
    network, in namespaces of its own, seeing no home directory and writing nowhere."""
    from taskgym.sandboxes.bwrap import bwrap_unavailable_reason

    if bwrap_unavailable_reason() is not None:
        pytest.skip(f"bubblewrap does not work here: {bwrap_unavailable_reason()}")
    with symbolic.SymbolicChecker() as made:
        assert made.equal("2x", "x + x")
        confined_worker(made._worker.pid)


# -- found by a red team that had only the action text (each broke through) ----------------


@needs_sympy
@pytest.mark.parametrize(
    ("given", "form"),
    [
        ("6\\binom{x+1}{3} - 2x^2 - 6x - 4", "expanded"),  # not a sum of monomials
        ("x^3 - 2x^2 - 7x - 5 + \\sin(x)^2 + \\cos(x)^2", "expanded"),
        ("(x+1)(x+1)(x-4)", "expanded"),
        ("x^3 - 2x^2 - 7x - 4", "factored"),
    ],
)
def test_a_form_is_not_passed_with_a_non_polynomial(
    checker: symbolic.SymbolicChecker, given: str, form: str
) -> None:
    assert not answers_match(given, "x^3 - 2x^2 - 7x - 4", checker, form=form)
    assert answers_match("x^3 - 2x^2 - 7x - 4", "(x+1)(x+1)(x-4)", checker, form="expanded")


def test_generated_problems_ask_for_exact_numbers() -> None:
    """The prompt says "exactly (a fraction if need be)": -2.285 is not -16/7 there,
    though a word problem's grader takes 0.333 for 1/3."""
    assert not answers_match("-2.285", "-16/7", approximate=False)
    assert answers_match("-2.285", "-16/7") and answers_match("-16/7", "-16/7", approximate=False)


@needs_sympy
def test_a_time_out_is_not_remembered_as_a_wrong_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A correct answer that once ran out of time (a busy machine) is checked again
    next time, not answered from the cache as wrong for good."""
    with symbolic.SymbolicChecker() as made:
        monkeypatch.setattr(symbolic.SymbolicChecker, "_ask", lambda self, *args: None)
        assert not made.equal("2x", "x + x")
        monkeypatch.undo()
        assert made.equal("2x", "x + x")


@needs_sympy
def test_loading_sympy_does_not_count_against_an_answer() -> None:
    """A hostile answer kills the worker; the next answer's limit starts once the new
    worker has loaded sympy (half a second and more), so a restart cannot make a right
    answer time out: a limit far below the load time still answers."""
    with symbolic.SymbolicChecker(seconds=0.2) as made:
        assert made.equal("2x", "x + x")  # a fresh worker
        assert not made.equal("(5000!)^{9999}", "1")
        assert made.equal("3x", "x + 2x")  # the worker started again
        assert made.timeouts == 1


@needs_sympy
def test_the_confined_worker_starts_from_a_virtual_environment_under_tmp(tmp_path: Path) -> None:
    """The confinement mounts a private /tmp: a virtual environment that lies under the
    host's /tmp must still be seen by the worker (it was hidden, and no check ran)."""
    import subprocess
    import sys

    from taskgym.sandboxes.bwrap import bwrap_unavailable_reason

    if bwrap_unavailable_reason() is not None:
        pytest.skip(f"bubblewrap does not work here: {bwrap_unavailable_reason()}")
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        check=True,
    )
    check = (
        "from taskgym.envs.math.symbolic import SymbolicChecker\n"
        "with SymbolicChecker() as c:\n    print(c.equal('2x', 'x + x'))\n"
    )
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", check],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr[-2000:]
