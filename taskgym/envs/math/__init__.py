"""The math family. One registration line an env; difficulty variants are data."""

from taskgym.registry import register_task

_ARITHMETIC = "taskgym.envs.math.arithmetic:ArithmeticTask"
_ARITHMETIC_PROGRAM = "taskgym.envs.math.arithmetic:ArithmeticProgramTask"

register_task(
    "ArithmeticEasy",
    _ARITHMETIC,
    family="math",
    difficulty="easy",
    description="Add or subtract two numbers; answer checked exactly.",
)
register_task(
    "Arithmetic",
    _ARITHMETIC,
    family="math",
    difficulty="medium",
    description="Expressions of 3-4 numbers with + - * and parentheses; exact answer.",
)
register_task(
    "ArithmeticHard",
    _ARITHMETIC,
    family="math",
    difficulty="hard",
    description="Expressions of 4-6 numbers with + - * /; exact fractional answers.",
)
register_task(
    "ArithmeticRetry",
    _ARITHMETIC,
    family="math",
    difficulty="hard",
    attempts=3,
    description="Hard arithmetic, three attempts with right/wrong feedback (multi-turn).",
)
register_task(
    "ArithmeticProgram",
    _ARITHMETIC_PROGRAM,
    family="math",
    difficulty="hard",
    description="Hard arithmetic answered by a Python program run in the sandbox.",
)
register_task(
    "GSM8K",
    "taskgym.envs.math.gsm8k:GSM8KTask",
    family="math",
    requires=("tasks",),
    description="GSM8K word problems from your copy (tasks=test.jsonl); the final answer "
    "(\\boxed{}, <answer>, ####) is compared exactly as a number.",
)
register_task(
    "MathAnswers",
    "taskgym.envs.math.gsm8k:MathAnswersTask",
    family="math",
    requires=("tasks",),
    description="Problems with a final answer from your JSONL (tasks=PATH: id, problem, "
    "answer); numbers compared exactly, other answers as normalised text.",
)
register_task(
    "CoqProofs",
    "taskgym.envs.math.proofs:CoqTheoremsTask",
    family="math",
    description="Prove a theorem in Coq (bundled: nat, lists, logic, booleans; easy to hard); "
    "Coq's kernel checks the proof and that it rests on no axiom.",
)
register_task(
    "CoqTactics",
    "taskgym.envs.math.tactics:CoqTacticsTask",
    family="math",
    description="Prove a bundled Coq theorem one tactic a turn; the observation is the goals "
    "left or Coq's error (multi-turn; reward='proof_progress' shapes it).",
)
register_task(
    "CoqGen",
    "taskgym.envs.math.coq_generators:CoqGeneratedTask",
    family="math",
    description="Generated Coq theorems (ring identities, linear facts, tautologies; "
    "difficulty=) with generated reference proofs; Coq's kernel checks the proof.",
)
register_task(
    "CoqTheorems",
    "taskgym.envs.math.proofs:CoqTheoremsTask",
    family="math",
    requires=("tasks",),
    description="Coq theorems from your .v files ending in Admitted. (tasks=DIR, "
    "miniF2F-style); NAME.proof beside NAME.v gives the reference.",
)
register_task(
    "LeanTheorems",
    "taskgym.envs.math.lean:LeanTheoremsTask",
    family="math",
    requires=("tasks",),
    description="Lean 4 theorems from your JSONL (tasks=PATH); Lean's kernel checks the "
    "tactic proof and its axioms (needs a Lean 4 toolchain on the sandbox's PATH).",
)
register_task(
    "MathGen",
    "taskgym.envs.math.generators:GeneratedMathTask",
    family="math",
    description="Generated problems with computed answers: linear equations, fractions, "
    "gcd/lcm, modular powers, primes, binomials, sequences, divisor sums, derivatives, "
    "integrals.",
)
register_task(
    "MathGenSymbolic",
    "taskgym.envs.math.generators:GeneratedMathTask",
    family="math",
    kinds=["quadratic", "cubic_roots", "linear_system", "expand", "factor"],
    description="Generated problems whose answers sympy compares: solution sets of "
    "quadratics and cubics, systems, and polynomials to expand or factor (the form "
    "counts); needs the sympy extra.",
)
