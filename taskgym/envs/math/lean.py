"""Proof mode with Lean 4, the same way as with Coq (:mod:`taskgym.envs.math.proofs`):
the checker, not a search of the text, decides, from a file the agent never sees.

Used where a Lean 4 toolchain's ``lean`` is on the sandbox's ``PATH`` (bwrap sees the
system directories only: install it under ``/usr/local`` or ``/opt``, or use the local
backend). None can be installed on the machines this project is built on, so this path
is tested only where one is (the tests skip, saying so, elsewhere).

1. ``Submission.lean``: the imports, ``def taskgym_statement_<random> : Prop :=
   STATEMENT`` (elaborated before the agent's text, so that its notations cannot change
   it), then ``theorem goal : STATEMENT := by`` and the agent's tactics, indented.
   ``lean -o`` compiles it; an error fails the proof.
2. Every file but ``Submission.olean`` is deleted, and a check read from standard input
   (never a file the submission could read) imports it, states ``theorem
   taskgym_check_<random> : taskgym_statement_<...> := goal`` and asks ``#print axioms``.
   ``lean --json`` reports each message with its position: the proof passes when the one
   message at the check's line says it depends on no axiom, or only on Lean's standard
   three (``propext``, ``Classical.choice``, ``Quot.sound``); ``sorryAx`` and any axiom
   of the agent's fail it, and so does any other output.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from taskgym.core import Execution, Problem, Turn, Verdict
from taskgym.envs.common.records import RecordsTask
from taskgym.envs.math.proofs import CoqTheorem, checker_limits, failed, load_theorems
from taskgym.errors import ConfigError, SandboxUnavailableError
from taskgym.sandboxes import Sandbox

__all__ = ["STANDARD_AXIOMS", "LeanTheoremsTask", "check_lean_proof", "judge_axioms"]

STANDARD_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})
_FENCE = re.compile(r"```(?:lean4?)?[ \t]*\n(.*?)```", re.DOTALL)
_AXIOMS = re.compile(r"'(?P<name>[^']+)' depends on axioms: \[(?P<axioms>[^\]]*)\]")
_NONE = re.compile(r"'(?P<name>[^']+)' does not depend on any axioms")


def lean_proof_text(action: str) -> str:
    """The tactics of an answer: a ```lean block's content, else the whole answer,
    without a leading ``by``."""
    blocks = _FENCE.findall(action)
    text = (blocks[-1] if blocks else action).strip()
    return text[2:].strip() if re.match(r"by\b", text) else text


def judge_axioms(output: str, name: str, line: int) -> Verdict:
    """The verdict from ``lean --json``'s output for the check theorem ``name`` whose
    ``#print axioms`` is on ``line``: exactly one message, there, of that theorem."""
    messages = []
    for raw in output.splitlines():
        try:
            message = json.loads(raw)
        except ValueError:
            return failed("the check printed something else", output[-1500:])
        messages.append(message)
    if len(messages) != 1 or not isinstance(messages[0], dict):
        return failed("the proof is not of the theorem", output[-1500:])
    message = messages[0]
    text = str(message.get("data", ""))
    position = message.get("pos") or {}
    if message.get("severity") != "information" or position.get("line") != line:
        return failed("the proof is not of the theorem", text[-1500:])
    return _axioms_verdict(text.strip(), name)


def _axioms_verdict(text: str, name: str) -> Verdict:
    if (found := _NONE.fullmatch(text)) and found["name"] == name:
        return Verdict(parsed=True, passed=1, total=1)
    found = _AXIOMS.fullmatch(text)
    if found and found["name"] == name:
        axioms = {a.strip() for a in found["axioms"].split(",") if a.strip()}
        if axioms <= STANDARD_AXIOMS:
            return Verdict(parsed=True, passed=1, total=1)
        return failed("the proof rests on assumptions", ", ".join(sorted(axioms - STANDARD_AXIOMS)))
    return failed("the proof is not of the theorem", text[-1500:])


def check_lean_proof(sandbox: Sandbox, theorem: CoqTheorem, proof: str) -> Verdict:
    """Compile ``proof`` (tactics) of ``theorem`` with Lean and judge its axioms (see the
    module docstring)."""
    if not proof.strip():
        return Verdict.unparsed("no proof")
    tag = secrets.token_hex(6)
    statement = f"taskgym_statement_{tag}"
    tactics = "\n".join(f"  {line}" for line in proof.strip().splitlines())
    submission = (
        f"{theorem.imports}\n\ndef {statement} : Prop := {theorem.statement}\n\n"
        f"theorem goal : {theorem.statement} := by\n{tactics}\n"
    )
    limits = checker_limits(theorem, memory_bytes=8 << 30)
    sandbox.write_file("Submission.lean", submission)
    compiled = sandbox.run(["lean", "-o", "Submission.olean", "Submission.lean"], limits=limits)
    if compiled.exit_code == 127:
        raise SandboxUnavailableError(
            "lean is not in the sandbox: install a Lean 4 toolchain where the sandbox sees "
            "it (/usr/local or /opt for bwrap), or use sandbox='local'"
        )
    if not compiled.ok:
        why = "timed out" if compiled.timed_out else (compiled.out + compiled.err)[-1500:]
        return failed("the proof does not compile", why)
    sandbox.run(["find", ".", "-mindepth", "1", "!", "-name", "Submission.olean", "-delete"])
    check_name = f"taskgym_check_{secrets.token_hex(6)}"
    header = "\n".join(
        line for line in theorem.imports.splitlines() if line.strip().startswith("import ")
    )
    lines = [*filter(None, [header]), "import Submission", ""]
    lines.append(f"theorem {check_name} : {statement} := goal")
    lines.append(f"#print axioms {check_name}")
    checked = sandbox.run(
        ["sh", "-c", 'LEAN_PATH="$PWD${LEAN_PATH:+:$LEAN_PATH}" exec lean --json --stdin'],
        stdin="\n".join(lines) + "\n",
        limits=limits,
    )
    sandbox.run(["find", ".", "-mindepth", "1", "-delete"])
    if checked.timed_out:
        return failed("the proof is not of the theorem", "timed out")
    return judge_axioms(checked.out, check_name, len(lines))


@dataclass(frozen=True)
class LeanTheoremsTask(RecordsTask):
    """Prove a Lean 4 theorem; the answer is a tactic proof (a ```lean block or plain
    text), checked by Lean's kernel.

    Args:
        tasks: a JSONL file of ``{"id", "statement", "proof", "imports"?, "difficulty"?,
            "seconds"?}`` records (no imports by default: Lean's core).
    """

    tasks: str | None = None
    family: ClassVar[str] = "math"
    execution: ClassVar[Execution] = Execution(
        needs_sandbox=True, sandbox_backends=("bwrap", "local")
    )

    def __post_init__(self) -> None:
        if not self.tasks:
            raise ConfigError("LeanTheorems needs tasks=PATH (a JSONL file of theorems)")
        self._keep({t.id: t for t in load_theorems(self.tasks, default_imports="")})

    def _problem_for(self, theorem: CoqTheorem) -> Problem:
        imports = f"after\n{theorem.imports}\n\n" if theorem.imports else ""
        prompt = (
            f"Prove in Lean 4, {imports}theorem goal : {theorem.statement} := by\n\n"
            "Answer with the tactics in a ```lean block. Lean's kernel checks the proof; "
            "sorry and axioms of your own do not count."
        )
        reference = f"```lean\n{theorem.proof.strip()}\n```" if theorem.proof else "sorry"
        return Problem(id=theorem.id, prompt=prompt, solution=(reference,))

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        theorem: CoqTheorem = self._records_by_id[problem.id]
        return check_lean_proof(sandbox, theorem, lean_proof_text(transcript[-1].action))
