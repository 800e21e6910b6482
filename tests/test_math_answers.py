"""Final answers of math problems (taskgym.envs.math.answers) and the envs that grade
them: GSM8K-v0 against ../shared/data's GSM8K test set, and MathAnswers-v0."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import gymnasium as gym
import pytest

import taskgym
from taskgym import ConfigError
from taskgym.core import Turn
from taskgym.envs.math import symbolic
from taskgym.envs.math.answers import answers_match, find_answer, parse_number
from taskgym.envs.math.generators import KINDS, SYMBOLIC_KINDS, GeneratedMathTask
from taskgym.envs.math.gsm8k import GSM8KTask, load_math_answers

GSM8K = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "gsm8k_test.jsonl"
MATH_ANSWERS = Path(__file__).with_name("data") / "math_answers.jsonl"


@pytest.mark.parametrize(
    ("text", "form", "answer"),
    [
        ("so \\boxed{\\frac{1}{2}} it is", "boxed", "\\frac{1}{2}"),
        ("\\boxed{1} then \\boxed{a{b}c}", "boxed", "a{b}c"),
        ("<answer>3</answer> no, <answer> 4 </answer>", "answer_tag", "4"),
        ("work\n#### 1,234\n", "hashes", "1,234"),
        ("The answer is $18.", "the_answer_is", "$18"),
        ("the final answer is 3.5.", "the_answer_is", "3.5"),
        ("#### 5\n\\boxed{6}", "boxed", "6"),  # the boxed form is trusted first
    ],
)
def test_the_final_answer_is_found_in_each_form(text: str, form: str, answer: str) -> None:
    found = find_answer(text)
    assert found is not None and (found.form, found.text) == (form, answer)


@pytest.mark.parametrize("text", ["I think 42", "\\boxed{42", "", "#### "])
def test_a_text_without_a_final_answer_has_none(text: str) -> None:
    assert find_answer(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("18", 18),
        ("$1,234.50", Fraction(2469, 2)),
        ("\\$18", 18),
        ("\\frac{3}{4}", Fraction(3, 4)),
        ("\\dfrac34", Fraction(3, 4)),
        ("-3/4", Fraction(-3, 4)),
        ("\u22125", -5),
        ("50%", 50),
        ("12 eggs", 12),
        ("\\text{12 } \\text{dollars}", 12),
        ("2.50", Fraction(5, 2)),
        ("1e3", 1000),
    ],
)
def test_numbers_parse_exactly(text: str, value: Fraction) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["x + 1", "1,23", "1/0", "twelve", "1" * 300])
def test_what_is_not_one_number_is_none(text: str) -> None:
    assert parse_number(text) is None


def test_answers_match_as_numbers_or_as_normalised_text() -> None:
    assert answers_match("$18.00", "18") and answers_match("1234", "1,234")
    assert not answers_match("19", "18") and not answers_match("", "18")
    assert answers_match(" \\text{Paris}. ", "paris") and not answers_match("Lyon", "Paris")
    assert not answers_match("", "")


@pytest.mark.skipif(not GSM8K.exists(), reason=f"{GSM8K} is absent (../shared/data is not here)")
def test_every_gsm8k_reference_earns_one_in_every_form_and_a_perturbed_answer_zero() -> None:
    task = GSM8KTask(tasks=str(GSM8K))
    ids = task.task_ids()
    assert len(ids) == 1319
    for task_id in ids:
        problem = task.get(task_id)
        answer = task._records_by_id[task_id].answer  # as GSM8K writes it: 1,234 included
        plain = answer.replace(",", "")
        forms = [
            problem.solution[0],  # GSM8K's own worked solution, ending in #### N
            f"\\boxed{{{answer}}}",
            f"<answer>{plain}</answer>",
            f"Adding up, the answer is ${answer}.",
            f"\\boxed{{{plain}.00}}",
        ]
        for form in forms:
            verdict = task.check(problem, (Turn(form, ""),), None)  # type: ignore[arg-type]
            assert verdict.solved, (task_id, form[-60:], verdict)
        wrong = task.check(problem, (Turn(f"#### {int(plain) + 1}", ""),), None)  # type: ignore[arg-type]
        assert wrong.parsed and not wrong.solved, task_id


@pytest.mark.skipif(not GSM8K.exists(), reason=f"{GSM8K} is absent (../shared/data is not here)")
def test_a_gsm8k_episode_through_the_env() -> None:
    env = gym.make("taskgym/GSM8K-v0", tasks=str(GSM8K))
    obs, _ = env.reset(options={"task_id": "gsm8k-1"})
    assert obs.startswith("Janet") and "\\boxed{ANSWER}" in obs
    _, reward, *_, info = env.step("She sells 9 eggs at $2: \\boxed{18}")
    assert reward == 1.0 and info["verdict"]["details"] == {"form": "boxed", "answer": "18"}
    env.reset(options={"task_id": "gsm8k-1"})
    _, reward, *_, info = env.step("18")
    assert reward == 0.0 and info["verdict"]["parsed"] is False
    env.close()


def test_math_answers_from_a_file_of_records() -> None:
    env = gym.make("taskgym/MathAnswers-v0", tasks=str(MATH_ANSWERS))
    for task_id, answer, reward in [
        ("half-of-seven", "\\boxed{3.5}", 1.0),
        ("half-of-seven", "\\boxed{\\frac{7}{2}}", 1.0),
        ("capital", "<answer>paris</answer>", 1.0),
        ("capital", "<answer>Lyon</answer>", 0.0),
        ("big", "#### 1234000", 1.0),
    ]:
        env.reset(options={"task_id": task_id})
        assert env.step(answer)[1] == reward, (task_id, answer)
    env.close()


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": "a", "problem": "p"}, "'answer' is missing"),
        ({"id": "a", "problem": "p", "answer": " "}, "'answer' is empty"),
        ({"id": "a", "problem": "p", "answer": "3", "solution": "#### 4"}, "is not the answer"),
        ({"id": "a", "problem": "p", "answer": "3", "hint": "x"}, "unknown field"),
    ],
)
def test_bad_records_say_what_is_wrong(tmp_path: Path, record: dict, message: str) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(ConfigError, match=message):
        load_math_answers(path)


# -- symbolic equivalence (sympy, in a worker process with a time limit) -------------

sympy_missing_reason = symbolic.sympy_missing()
needs_sympy = pytest.mark.skipif(sympy_missing_reason is not None, reason=str(sympy_missing_reason))


@pytest.fixture(scope="module")
def checker() -> Iterator[symbolic.SymbolicChecker]:
    if sympy_missing_reason is not None:
        pytest.skip(sympy_missing_reason)
    with symbolic.SymbolicChecker(seconds=2.0) as made:
        yield made


@needs_sympy
@pytest.mark.parametrize(
    ("given", "reference", "equal"),
    [
        ("\\frac{\\sqrt{8}}{2}", "\\sqrt{2}", True),
        ("2x+2", "2(x+1)", True),
        ("x^2-1", "(x-1)(x+1)", True),
        ("x+1", "x+2", False),
        ("\\pi/2", "1.5707963267948966", True),
        ("e^{i\\pi}", "-1", True),
        ("\\sqrt[3]{27}", "3", True),
        ("3\\sqrt{2}", "\\sqrt{18}", True),
        ("[1, 3)", "[1,3)", True),
        ("(1,3]", "[1,3)", False),
        ("\\{1,2\\}", "\\{2,1\\}", True),
        ("(1, 2)", "(2, 1)", False),
        ("(-\\infty, 2) \\cup (3, \\infty)", "(-\\infty,2)\\cup(3,\\infty)", True),
        ("(-\\infty, 2] \\cup (3, \\infty)", "(-\\infty,2)\\cup(3,\\infty)", False),
        ("\\frac{1}{", "1", False),  # does not parse: not equal, not an error
    ],
)
def test_symbolic_equivalence(
    checker: symbolic.SymbolicChecker, given: str, reference: str, equal: bool
) -> None:
    assert checker.equal(given, reference) is equal


@needs_sympy
def test_a_hostile_answer_is_stopped_by_the_time_limit_and_the_next_call_works() -> None:
    with symbolic.SymbolicChecker(seconds=1.0) as checker:
        start = time.monotonic()
        # Within the grammar's bounds, and still hours of integer arithmetic.
        assert not checker.equal("(5000!)^{9999} - (4999!)^{9999}", "0")
        assert time.monotonic() - start < 5 and checker.timeouts == 1
        assert checker.equal("2x", "x+x")  # a new worker answers
        assert checker.equal("2x", "x+x") and checker.timeouts == 1  # cached


@needs_sympy
def test_words_are_not_products_of_letters(checker: symbolic.SymbolicChecker) -> None:
    assert not answers_match("sey", "yes", checker)
    assert answers_match("2(x+1)", "2x+2", checker) and not answers_match("2(x+1)", "2x+2")
    assert answers_match("2 \\cdot 9", "18", checker)


@needs_sympy
def test_math_answers_compare_expressions_through_the_env(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    record = {"id": "factor", "problem": "Expand 2(x+1).", "answer": "2x + 2"}
    path.write_text(json.dumps(record) + "\n")
    env = gym.make("taskgym/MathAnswers-v0", tasks=str(path))
    env.reset(options={"task_id": "factor"})
    assert env.step("\\boxed{2(x+1)}")[1] == 1.0
    env.reset(options={"task_id": "factor"})
    assert env.step("\\boxed{2x+1}")[1] == 0.0
    env.close()


# -- generated problems ----------------------------------------------------------------


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_generated_problems_are_reproducible_and_their_computed_answers_earn_one(
    difficulty: str,
) -> None:
    task = GeneratedMathTask(difficulty=difficulty)
    seen_kinds = set()
    for seed in range(40):
        problem = task.problem(seed)
        assert task.problem(seed) == problem and task.get(problem.id) == problem
        seen_kinds.add(problem.id.split("-")[2])
        assert task.check(problem, (Turn(problem.solution[0], ""),), None).solved  # type: ignore[arg-type]
        wrong = f"\\boxed{{{parse_number(str(problem.data['answer'])) + 1}}}"
        assert not task.check(problem, (Turn(wrong, ""),), None).solved  # type: ignore[arg-type]
    assert seen_kinds == set(KINDS)


def test_generated_linear_equations_are_solved_by_their_answer() -> None:
    """The computed answer solves the equation shown (a x + b = c)."""
    task = GeneratedMathTask(difficulty="hard", kinds=["linear"])
    for seed in range(20):
        problem = task.problem(seed)
        equation = problem.prompt.split("\n")[0].removeprefix("Solve for x: ").rstrip(".")
        left, right = equation.split(" = ")
        a, sign, b = left.replace("x", "").split()
        value = Fraction(str(problem.data["answer"]))
        assert int(a) * value + (int(b) if sign == "+" else -int(b)) == int(right)


def test_bad_generator_options_say_what_is_wrong() -> None:
    with pytest.raises(ConfigError, match="difficulty is one of"):
        GeneratedMathTask(difficulty="brutal")
    with pytest.raises(ConfigError, match="kinds are some of"):
        GeneratedMathTask(kinds=["calculus"])
    with pytest.raises(taskgym.UnknownTaskIdError):
        GeneratedMathTask().get("gen-easy-linear-x")


@pytest.mark.parametrize(
    ("given", "reference", "equal"),
    [
        ("50%", "0.5", True),
        ("50\\%", "50", True),
        ("0.5", "50%", True),
        ("0.25%", "0.5", False),
        ("0.333", "1/3", True),  # cut
        ("0.667", "\\frac{2}{3}", True),  # rounded
        ("0.666", "2/3", True),
        ("0.334", "1/3", False),  # neither
        ("0.33", "1/3", False),  # too few places to count
        ("0.124", "1/8", False),  # 1/8 has a finite decimal: only 0.125 is it
        ("-0.667", "-2/3", True),
        ("33.333%", "1/3", True),
    ],
)
def test_percentages_and_shortened_decimals(given: str, reference: str, equal: bool) -> None:
    assert answers_match(given, reference) is equal


@needs_sympy
@pytest.mark.parametrize(
    ("given", "reference", "form", "equal"),
    [
        ("x^2 + 2x - 8", "x^2 + 2x - 8", "expanded", True),
        ("2x - 8 + x^2", "x^2 + 2x - 8", "expanded", True),
        ("(x - 2)(x + 4)", "x^2 + 2x - 8", "expanded", False),  # the question, copied
        ("x(x + 2) - 8", "x^2 + 2x - 8", "expanded", False),
        ("(x + 4)(x - 2)", "(x - 2)(x + 4)", "factored", True),
        ("2(x - 1)(x + 3)", "(2x - 2)(x + 3)", "factored", True),
        ("x^2 + 2x - 8", "(x - 2)(x + 4)", "factored", False),  # the question, copied
        ("(x - 2)(x + 5)", "(x - 2)(x + 4)", "factored", False),
        ("(x^2 - 4)(x + 1)", "(x - 2)(x + 2)(x + 1)", "factored", False),  # not complete
    ],
)
def test_an_answer_in_the_form_asked_for(
    checker: symbolic.SymbolicChecker, given: str, reference: str, form: str, equal: bool
) -> None:
    assert answers_match(given, reference, checker, form=form) is equal


@needs_sympy
@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_symbolic_generated_problems_earn_one_for_their_answer_and_zero_for_near_misses(
    difficulty: str,
) -> None:
    task = GeneratedMathTask(difficulty=difficulty, kinds=list(SYMBOLIC_KINDS))
    for seed in range(25):
        problem = task.problem(seed)
        assert task.get(problem.id) == problem
        answer = str(problem.data["answer"])
        assert task.check(problem, (Turn(problem.solution[0], ""),), None).solved  # type: ignore[arg-type]
        kind = problem.id.split("-")[2]
        # A near miss: one number of the answer off by one.
        first = re.search(r"\d+", answer)
        assert first is not None
        near = answer[: first.start()] + str(int(first[0]) + 1) + answer[first.end() :]
        verdict = task.check(problem, (Turn(f"\\boxed{{{near}}}", ""),), None)  # type: ignore[arg-type]
        assert not verdict.solved, (problem.prompt, near)
        if kind in ("expand", "factor"):  # the question's own polynomial is not the answer
            shown = problem.prompt.split("\n")[0]
            polynomial = re.sub(r"^(Expand|Factor) | completely over the rationals|\.$", "", shown)
            copied = task.check(problem, (Turn(f"\\boxed{{{polynomial}}}", ""),), None)  # type: ignore[arg-type]
            assert not copied.solved, (problem.prompt, polynomial)


def test_generated_problems_of_the_new_numeric_kinds_are_right() -> None:
    task = GeneratedMathTask(difficulty="hard", kinds=["fractions", "primes"])
    for seed in range(30):
        problem = task.problem(seed)
        question = problem.prompt.split("\n")[0]
        answer = Fraction(str(problem.data["answer"]))
        if question.startswith("What is prime number"):
            n = int(re.search(r"number (\d+)", question)[1])  # type: ignore[index]
            assert sum(1 for p in range(2, int(answer) + 1) if _is_prime(p)) == n
        elif question.startswith("How many prime"):
            limit = int(re.search(r"less than (\d+)", question)[1])  # type: ignore[index]
            assert answer == sum(1 for p in range(2, limit) if _is_prime(p))
        elif question.startswith("What is the largest prime factor"):
            assert _is_prime(int(answer))
        else:
            sum_text = question.removeprefix("What is ").split(",")[0]
            terms = re.findall(r"([+-]?)\s*(\d+)/(\d+)", sum_text)
            total = sum(Fraction(int(t), int(b)) * (-1 if s == "-" else 1) for s, t, b in terms)
            assert total == answer


def _is_prime(n: int) -> bool:
    return n > 1 and all(n % d for d in range(2, int(n**0.5) + 1))


@needs_sympy
def test_the_checker_agrees_with_every_label_of_the_benchmark_set(
    checker: symbolic.SymbolicChecker,
) -> None:
    """bench.math_verify_comparison's labelled pairs (generated and hand-written)."""
    from bench.math_pairs import build_pairs

    wrong = []
    for pair in build_pairs():
        found = find_answer(pair.answer)
        said = found is not None and answers_match(found.text, pair.reference, checker)
        if said != pair.equivalent:
            wrong.append((pair.answer, pair.reference, pair.equivalent))
    assert not wrong


@pytest.mark.parametrize(
    ("answer", "text"), [(5, "5"), (-12, "-12"), (2.5, "2.5"), (1e-05, "0.00001")]
)
def test_a_numeric_answer_is_read_as_its_text(tmp_path: Path, answer: float, text: str) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps({"id": "a", "problem": "p", "answer": answer}) + "\n")
    (record,) = load_math_answers(path)
    assert record.answer == text
    env = gym.make("taskgym/MathAnswers-v0", tasks=str(path))
    env.reset(options={"task_id": "a"})
    assert env.step(f"\\boxed{{{text}}}")[1] == 1.0
    env.close()


@pytest.mark.parametrize("answer", [True, float("nan"), [5], None])
def test_an_answer_that_is_neither_text_nor_a_number_is_refused(
    tmp_path: Path, answer: object
) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps({"id": "a", "problem": "p", "answer": answer}) + "\n")
    with pytest.raises(ConfigError, match="'answer'"):
        load_math_answers(path)
