"""The arithmetic family: generation, exact checking, retries, and programs in a sandbox."""

from __future__ import annotations

import re
from fractions import Fraction

import gymnasium as gym
import pytest

from taskgym import ExecResult, TaskEnv, UnknownTaskIdError
from taskgym.envs.common.extract import extract_code
from taskgym.envs.math.arithmetic import (
    ArithmeticProgramTask,
    ArithmeticTask,
    extract_answer,
    parse_exact_number,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", Fraction(42)),
        ("  -7 ", Fraction(-7)),
        ("+3", Fraction(3)),
        ("-14/6", Fraction(-7, 3)),
        ("7 / -3", Fraction(-7, 3)),
        ("2.5", Fraction(5, 2)),
        ("0.10", Fraction(1, 10)),
    ],
)
def test_parse_exact_number_reads_integers_fractions_and_decimals(
    text: str, value: Fraction
) -> None:
    assert parse_exact_number(text) == value


@pytest.mark.parametrize(
    "text", ["", "abc", "4 apples", "1/0", "1e5", "3..2", "9" * 41, "1/2/3", "½", "٣"]
)
def test_parse_exact_number_refuses_everything_else(text: str) -> None:
    assert parse_exact_number(text) is None


def test_answer_tags_take_the_last_block_and_code_fences_the_first() -> None:
    assert extract_answer("think <answer>1</answer> more <answer> 2 </answer>") == " 2 "
    assert extract_answer("no tags") == "no tags"
    assert extract_answer("<answer>unclosed") == "<answer>unclosed"
    assert extract_code("text\n```python\nprint(1)\n```\n```\nprint(2)\n```") == "print(1)\n"
    assert extract_code("print(3)") == "print(3)"


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_shown_expression_evaluates_to_the_reference_answer(difficulty: str) -> None:
    """The text the agent sees, read with ordinary precedence, has the stored answer:
    this catches a missing pair of parentheses in the renderer."""
    task = ArithmeticTask(difficulty=difficulty)  # type: ignore[arg-type]
    for seed in range(300):
        problem = task.problem(seed)
        expression = problem.prompt.split("\n\n")[1].strip()
        exact = re.sub(r"\d+", lambda m: f"Fraction({m.group()})", expression)
        value = eval(exact, {"Fraction": Fraction})  # our own generated text
        assert parse_exact_number(str(problem.data["answer"])) == value, expression


def test_difficulties_differ_in_size_and_operators() -> None:
    def operators(difficulty: str) -> set[str]:
        task = ArithmeticTask(difficulty=difficulty)  # type: ignore[arg-type]
        found: set[str] = set()
        for seed in range(100):
            found |= set(re.findall(r" ([-+*/]) ", task.problem(seed).prompt))
        return found

    assert operators("easy") == {"+", "-"}
    assert operators("medium") == {"+", "-", "*"}
    assert operators("hard") == {"+", "-", "*", "/"}
    hard_answers = {ArithmeticTask(difficulty="hard").problem(s).data["answer"] for s in range(100)}
    assert any("/" in str(a) for a in hard_answers)  # fractional answers occur


def test_any_exact_form_of_the_answer_is_accepted_and_wrong_values_are_not() -> None:
    env = TaskEnv(ArithmeticTask(difficulty="hard"))
    env.reset(options={"task_id": "arithmetic-hard-7"})
    expected = parse_exact_number(str(env.problem.data["answer"]))
    assert expected is not None
    forms = [
        f"{expected.numerator}/{expected.denominator}",
        f"{expected.numerator * 3} / {expected.denominator * 3}",
        f"Working... so <answer>{expected.numerator}/{expected.denominator}</answer>",
    ]
    for form in forms:
        env.reset(options={"task_id": "arithmetic-hard-7"})
        assert env.step(form)[1] == 1.0, form
    env.reset(options={"task_id": "arithmetic-hard-7"})
    _, reward, _, _, info = env.step(f"{expected.numerator + 1}/{expected.denominator}")
    assert reward == 0.0 and info["verdict"]["parsed"]


def test_get_refuses_ids_of_other_difficulties_and_garbage() -> None:
    task = ArithmeticTask(difficulty="easy")
    assert task.get("arithmetic-easy-12") == task.problem(12)
    for bad in (
        "arithmetic-hard-12",
        "arithmetic-easy-",
        "arithmetic-easy-1x",
        "x",
        "arithmetic-easy-" + "9" * 30,
    ):
        with pytest.raises(UnknownTaskIdError, match="ids look like"):
            task.get(bad)


def test_retry_mode_gives_feedback_and_allows_a_late_right_answer() -> None:
    env = gym.make("taskgym/ArithmeticRetry-v0")
    env.reset(seed=11)
    answer = env.unwrapped.problem.solution[0]  # type: ignore[attr-defined]
    obs, reward, terminated, _, _ = env.step("12345678")
    assert (reward, terminated) == (0.0, False) and "2 attempt(s) left" in obs
    obs, reward, terminated, _, _ = env.step("no idea")
    assert "No answer could be read" in obs and not terminated
    obs, reward, terminated, truncated, info = env.step(answer)
    assert (obs, reward, terminated, truncated) == ("Correct.", 1.0, True, False)
    assert info["turn"] == 3


def test_retry_mode_ends_after_the_last_wrong_attempt() -> None:
    env = TaskEnv(ArithmeticTask(attempts=2))
    env.reset(seed=0)
    env.step("0.5")
    obs, reward, terminated, truncated, _ = env.step("0.25")
    assert "No attempts left" in obs and (reward, terminated, truncated) == (0.0, True, False)


def test_program_mode_runs_the_program_in_a_real_local_sandbox() -> None:
    env = TaskEnv(ArithmeticProgramTask(difficulty="medium"), sandbox="local")
    env.reset(options={"task_id": "arithmetic-medium-3"})
    answer = env.problem.data["answer"]
    cases = {
        env.problem.solution[0]: 1.0,  # computes it
        f"print('{answer}')": 1.0,  # prints it, no fence
        f"```python\nprint('{answer}')\nraise SystemExit(1)\n```": 0.0,  # crashed: not read
        "while True: pass": 0.0,  # time-out
        "print(": 0.0,  # syntax error
        f"```python\nprint({answer} + 1)\n```": 0.0,  # wrong
    }
    for program, expected in cases.items():
        env.reset(options={"task_id": "arithmetic-medium-3"})
        assert env.step(program)[1] == expected, program
    env.close()


def test_program_mode_sandbox_does_not_leak_between_episodes() -> None:
    env = TaskEnv(ArithmeticProgramTask(), sandbox="local")
    env.reset(seed=1)
    env.step("open('planted.txt', 'w').write('x')")
    env.reset(seed=1)
    env.step("import os; print(os.path.exists('planted.txt'))")
    assert env.sandbox is not None
    result = env.sandbox.run(["ls"])
    assert "planted.txt" not in result.out
    env.close()


def test_program_mode_raises_when_the_sandbox_has_no_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A missing interpreter is the framework's failure: it must raise, not pay zero."""
    from taskgym import SandboxUnavailableError
    from taskgym.envs.math import arithmetic
    from taskgym.sandboxes.fake import FakeSandbox

    monkeypatch.setattr(arithmetic, "_PYTHON_VERIFIED", set())
    task = ArithmeticProgramTask()
    no_python = FakeSandbox(lambda argv, stdin: ExecResult(127, stderr=b"python3: not found"))
    with pytest.raises(SandboxUnavailableError, match="python3 does not run in the fake sandbox"):
        task.setup(task.problem(0), no_python)
    with_python = FakeSandbox(lambda argv, stdin: ExecResult(0, stdout=b"42\n"))
    task.setup(task.problem(0), with_python)
    assert "fake" in arithmetic._PYTHON_VERIFIED
