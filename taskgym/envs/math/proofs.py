"""Proof mode with Coq (Rocq): the agent proves a theorem; Coq's kernel decides.

How a proof is checked (:func:`check_proof`), in the env's sandbox:

1. ``Submission.v`` is the task's imports, ``Theorem goal : STATEMENT.``, ``Proof.`` and
   the agent's text (``Qed.`` added when it ends without one). ``coqc`` compiles it; an
   error fails the proof and is shown in the verdict.
2. Every file but ``Submission.vo`` is deleted, and taskgym writes a check file of its
   own, under a name drawn after step 1, that imports the same libraries, states
   ``Definition taskgym_statement := (STATEMENT).`` *before* it loads the compiled
   submission (so that what a ``Require`` brings without ``Import``, such as a global
   instance of a class the statement uses, cannot change what it says), then
   ``Definition taskgym_check : taskgym_statement := Top.Submission.goal.`` and ``Print
   Assumptions taskgym_check.`` Its whole output must be exactly ``Closed under the
   global context``; anything else (an axiom, an ``Admitted``, a statement the agent
   changed, which does not type-check, or text printed beside it) fails. ``Print
   Assumptions`` always prints at least its own first line, so text printed before it
   can only lengthen the output, never make it equal.

The warm path (the default, :mod:`taskgym.envs.math.coqtop`) asks the same in a
persistent coqtop and reads the check's output between sentinels only taskgym can
print, matched whole against the one clean answer: no notation, ``idtac`` or fake prompt
in the proof's output can stand in for it.

Nothing the submission prints is read as a verdict, and the kernel decides, not a search
of the text: ``Admitted``, ``admit``, ``Axiom``/``Parameter``/``Hypothesis``, restating
the theorem, turning off guard, positivity or universe checking (Coq lists them as
assumptions) and printed success lines all fail. Tasks run where ``coqc`` is (``apt-get
install coq``): local or bwrap.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from taskgym.core import Execution, Problem, Task, Turn, Verdict
from taskgym.envs.common.records import (
    FieldTypes,
    RecordsTask,
    check_fields,
    deprecated_path,
    read_records,
    take_deprecated_path,
)
from taskgym.envs.math.coqtop import (
    CLOSED,
    Part,
    Segment,
    coqtop_for,
    warm_refusal,
    warm_sessions,
)
from taskgym.errors import ConfigError, SandboxUnavailableError
from taskgym.sandboxes import Limits, Sandbox

__all__ = [
    "BUNDLED_THEOREMS",
    "CoqTheorem",
    "CoqTheoremsTask",
    "check_proof",
    "checker_limits",
    "failed",
    "keep_coq_warm",
    "load_theorem_files",
    "load_theorems",
    "prove_after",
    "theorem_problem",
]

BUNDLED_THEOREMS = str(Path(__file__).with_name("data") / "coq_theorems.jsonl")
DEFAULT_IMPORTS = "Require Import Arith Lia List Bool.\nImport ListNotations."
_FIELDS: FieldTypes = {"id": str, "statement": str, "proof": str}
_OPTIONAL: FieldTypes = {"imports": str, "difficulty": str, "seconds": (int, float)}
_FENCE = re.compile(r"```(?:coq|rocq)?[ \t]*\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class CoqTheorem:
    """A theorem to prove: its statement, a reference proof, what it imports. Lean
    theorems (:mod:`taskgym.envs.math.lean`) use the same record in Lean's syntax."""

    id: str
    statement: str
    proof: str
    """A reference proof script (the tactics between ``Proof.`` and ``Qed.``)."""
    imports: str = DEFAULT_IMPORTS
    difficulty: str = "medium"
    seconds: float = 30.0


def load_theorems(path: str | Path, default_imports: str = DEFAULT_IMPORTS) -> list[CoqTheorem]:
    """A JSONL file of ``{"id", "statement", "proof", "imports"?, "difficulty"?,
    "seconds"?}`` records (the same form for Lean, with Lean's default imports)."""
    theorems = []
    for where, raw in read_records(path):
        check_fields(raw, where, _FIELDS, _OPTIONAL)
        if raw.get("difficulty", "medium") not in ("easy", "medium", "hard"):
            raise ConfigError(f"{where}: 'difficulty' is easy, medium or hard")
        theorems.append(CoqTheorem(**{"imports": default_imports, **raw}))
    return theorems


_ADMITTED = re.compile(
    r"(?P<kind>Theorem|Lemma|Fact|Remark|Example)\s+(?P<name>[\w']+)\s*(?P<statement>[^.]*?"
    r"(?:\.[^\s][^.]*?)*)\.\s*(?:Proof\.)?\s*Admitted\.",
    re.DOTALL,
)


def load_theorem_files(path: str | Path) -> list[CoqTheorem]:
    """A directory of ``.v`` files whose one theorem ends in ``Admitted.`` (the common
    benchmark form, as in miniF2F): the text before the theorem is its imports, and a
    file ``NAME.proof`` beside ``NAME.v``, if any, holds a reference proof."""
    root = Path(path)
    files = sorted(root.glob("*.v")) if root.is_dir() else [root]
    if not files or not all(f.is_file() for f in files):
        raise ConfigError(f"{root} holds no .v file")
    theorems = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        found = list(_ADMITTED.finditer(text))
        if len(found) != 1:
            raise ConfigError(
                f"{file}: expected one theorem ending in 'Admitted.', found {len(found)}"
            )
        match = found[0]
        statement = match["statement"].strip()
        statement = statement[1:].strip() if statement.startswith(":") else statement
        reference = file.with_suffix(".proof")
        theorems.append(
            CoqTheorem(
                id=file.stem,
                statement=statement,
                proof=reference.read_text(encoding="utf-8") if reference.exists() else "",
                imports=text[: match.start()].strip(),
            )
        )
    return theorems


def proof_text(action: str) -> str:
    """The proof script of an answer: a fenced block's content, else the whole answer,
    without a leading ``Proof.``."""
    blocks = _FENCE.findall(action)
    text = (blocks[-1] if blocks else action).strip()
    return text[len("Proof.") :].strip() if text.startswith("Proof.") else text


def check_proof(sandbox: Sandbox, theorem: CoqTheorem, proof: str, *, warm: bool = True) -> Verdict:
    """Have Coq's kernel say whether ``proof`` proves ``theorem`` and rests on no axiom.
    One check: proved or not.

    ``warm``: in the sandbox's warm coqtop (:mod:`taskgym.envs.math.coqtop`) when the
    proof passes its gate, else (and when ``warm`` is False) in two fresh ``coqc`` runs
    (see the module docstring). Both decide the same way, by ``Print Assumptions``.
    """
    if not proof.strip():
        return Verdict.unparsed("no proof")
    body = proof.rstrip()
    if not re.search(r"\b(Qed|Defined|Admitted|Abort)\.\s*$", body):
        body += "\nQed."
    if warm and warm_refusal(body) is None:
        verdict = _check_warm(sandbox, theorem, body)
        if verdict is not None:
            return verdict
    return _check_cold(sandbox, theorem, body)


def _check_warm(sandbox: Sandbox, theorem: CoqTheorem, body: str) -> Verdict | None:
    """The check in the warm coqtop; None where only a fresh coqc can tell (the
    statement or the imports trouble coqtop, or the proof printed past the cap)."""
    try:
        session = coqtop_for(sandbox, theorem.imports, seconds=theorem.seconds)
    except ValueError:
        return None
    tag = secrets.token_hex(6)
    statement, check = f"taskgym_statement_{tag}", f"taskgym_check_{tag}"
    # The statement is elaborated before the agent's text, so that notations or scopes
    # the proof declares cannot change what the check below asks for. Each part ends
    # in a sentinel of the session's (coqtop.py): the check's part is read whole.
    parts = [
        f"Definition {statement} := ({theorem.statement}).\n"
        f"Theorem goal : {theorem.statement}.\nProof.",
        body,
        f"Definition {check} : Top.{statement} := Top.goal.\nPrint Assumptions {check}.",
    ]
    done = session.exchange(parts, seconds=theorem.seconds)
    if done is None:
        return failed("the proof does not compile", "timed out") if session.timed_out else None
    session.back_to_base()
    return _judge(done, check)


def _clean_check(check: str) -> re.Pattern[bytes]:
    """The one output of the check's part that passes: the check defined, then ``Print
    Assumptions`` saying ``Closed under the global context`` (after Coq's notes of the
    libraries it read), each followed by a prompt with no proof open. Nothing in it is
    free text: an axiom's type, whatever notation prints it, cannot fit."""
    prompt = rb"<prompt>Coq < \d+ \|\| \d+ < </prompt>"
    return re.compile(
        rb"<infomsg>"
        + re.escape(check.encode())
        + rb" is defined</infomsg>\n\n"
        + prompt
        + rb"(?:<infomsg>\n?Fetching opaque proofs from disk for [\w.']+\n?</infomsg>\n)*"
        + re.escape(CLOSED.encode())
        + rb"\n\n"
        + prompt
    )


def _judge(done: Sequence[Part], check: str) -> Verdict | None:
    """The verdict from a warm check's three parts (taskgym's head, the agent's proof,
    taskgym's check): the check's part is matched whole against the one clean answer;
    the agent's is read only for errors (which fail the proof, as they stop coqc)."""
    if not done or done[0].error or done[0].proof != "goal":
        return None  # the statement itself troubles coqtop: coqc will say how
    if len(done) < 3:  # the proof's last sentence, left open, swallowed the sentinel
        return failed("the proof does not compile", "its last sentence is not ended")
    proof, checked = done[1], done[2]
    if proof.error:
        errors = [s.text for s in proof.segments() if s.error] or [proof.output]
        return failed("the proof does not compile", errors[0][-1500:])
    if _clean_check(check).fullmatch(checked.raw):
        return Verdict(parsed=True, passed=1, total=1)
    return _why_not(proof, checked)


def _why_not(proof: Part, checked: Part) -> Verdict:
    """The failure of a warm check whose answer was not the clean one, told from what
    the check printed (for the agent to read: the verdict is already decided)."""
    if proof.proofs:
        return failed("the proof does not compile", f"a proof is left open: {proof.proofs}")
    segments = checked.segments()
    if not segments or segments[0].error:
        said = segments[0].text if segments else checked.output
        return failed("the proof is not of the theorem", said[-1500:])
    # What Print Assumptions said, as printed (prompts it printed left in): between the
    # check's prompt, the first (only Coq prints before it), and the last.
    first, last = checked.raw.find(b"</prompt>"), checked.raw.rfind(b"<prompt>")
    said = checked.raw[first + len(b"</prompt>") : last].decode("utf-8", errors="replace")
    return failed("the proof rests on assumptions", Segment(said, 0, "").text[-1500:])


def _check_cold(sandbox: Sandbox, theorem: CoqTheorem, body: str) -> Verdict:
    """The check in two fresh coqc runs: the submission, then a check file named after.
    The work directory is left empty, as the warm path leaves it."""
    try:
        return _compile_and_check(sandbox, theorem, body)
    finally:
        sandbox.run(["find", ".", "-mindepth", "1", "-delete"])


def _compile_and_check(sandbox: Sandbox, theorem: CoqTheorem, body: str) -> Verdict:
    submission = f"{theorem.imports}\n\nTheorem goal : {theorem.statement}.\nProof.\n{body}\n"
    limits = checker_limits(theorem)
    sandbox.write_file("Submission.v", submission)
    compiled = sandbox.run(["coqc", "-q", "-R", ".", "Top", "Submission.v"], limits=limits)
    if compiled.exit_code == 127:
        raise SandboxUnavailableError("coqc is not in the sandbox: apt-get install coq")
    if not compiled.ok:
        why = "timed out" if compiled.timed_out else (compiled.out + compiled.err)[-1500:]
        return failed("the proof does not compile", why)
    # Only the compiled submission stays; the check file's name is drawn now.
    sandbox.run(["find", ".", "-mindepth", "1", "!", "-name", "Submission.vo", "-delete"])
    name = f"Check{secrets.token_hex(6)}"
    # The statement is elaborated before the submission is loaded: what a Require
    # brings without Import (global instances, hints, options) cannot change it.
    check = (
        f"{theorem.imports}\n\nDefinition taskgym_statement := ({theorem.statement}).\n"
        "Require Top.Submission.\n"
        "Definition taskgym_check : taskgym_statement := Top.Submission.goal.\n"
        "Print Assumptions taskgym_check.\n"
    )
    sandbox.write_file(f"{name}.v", check)
    checked = sandbox.run(["coqc", "-q", "-R", ".", "Top", f"{name}.v"], limits=limits)
    said = checked.out.strip()
    if checked.ok and said == CLOSED:
        return Verdict(parsed=True, passed=1, total=1)
    if not checked.ok:
        return failed("the proof is not of the theorem", (checked.out + checked.err)[-1500:])
    return failed("the proof rests on assumptions", said[-1500:])


def checker_limits(theorem: CoqTheorem, memory_bytes: int = 4 << 30) -> Limits:
    """The limits of one run of a proof checker (coqc, lean) on ``theorem``."""
    return Limits(
        wall_seconds=theorem.seconds,
        cpu_seconds=max(1, int(theorem.seconds)),
        memory_bytes=memory_bytes,
        output_bytes=64 * 1024,
    )


def failed(what: str, why: str) -> Verdict:
    """A proof that Coq (or Lean) did not accept: ``what`` went wrong, ``why`` in its
    own words."""
    return Verdict(parsed=True, passed=0, total=1, details={"failure": what, "output": why})


@dataclass(frozen=True)
class CoqTheoremsTask(RecordsTask):
    """Prove a theorem in Coq; the answer is the proof script (a ```coq block or plain
    text), checked by Coq's kernel.

    Args:
        tasks: a JSONL file of theorems (default: the bundled ones), or a directory of
            ``.v`` files (or one) whose theorem ends in ``Admitted.``. ``path=``, its old
            name for ``.v`` files, is still taken for one release.
        difficulty: only the bundled theorems of this level (easy, medium, hard).
        warm: check proofs in a warm coqtop kept between episodes (False: two fresh
            coqc runs each, as slow as they are simple).
        seconds: the time limit of a check (and in tactic mode of a tactic), instead of
            each theorem's own.
    """

    tasks: str | None = None
    path: str | None = deprecated_path()  # the old name of tasks=
    difficulty: str | None = None
    warm: bool = True
    seconds: float | None = None
    family: ClassVar[str] = "math"
    execution: ClassVar[Execution] = Execution(
        needs_sandbox=True, sandbox_backends=("bwrap", "local")
    )

    def __post_init__(self) -> None:
        take_deprecated_path(self)
        tasks = Path(self.tasks or BUNDLED_THEOREMS)
        v_files = tasks.is_dir() or tasks.suffix == ".v"
        theorems = load_theorem_files(tasks) if v_files else load_theorems(tasks)
        if self.seconds is not None:
            if not self.seconds > 0:
                raise ConfigError(f"seconds must be positive, got {self.seconds!r}")
            theorems = [dataclasses.replace(t, seconds=float(self.seconds)) for t in theorems]
        if self.difficulty is not None:
            theorems = [t for t in theorems if t.difficulty == self.difficulty]
            if not theorems:
                raise ConfigError(f"no theorem of difficulty {self.difficulty!r}")
        self._keep({t.id: t for t in theorems})

    def _problem_for(self, theorem: CoqTheorem) -> Problem:
        return theorem_problem(theorem)

    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        theorem: CoqTheorem = self._records_by_id[problem.id]
        return check_proof(sandbox, theorem, proof_text(transcript[-1].action), warm=self.warm)

    def keep_warm(self, sandbox: Sandbox) -> bool:
        return keep_coq_warm(sandbox)

    def may_share_answer(self, problem: Problem, other: Problem) -> bool:
        return True  # a tactic such as lia. proves many theorems

    def near_misses(self, problem: Problem) -> Mapping[str, tuple[str, ...]]:
        """For the conformance checks: the reference proof without its last sentence
        (a reference of several actions, tactic mode's, loses its last action)."""
        if not problem.solution:
            return {}  # no reference proof, so no near miss of it
        sentences = re.split(r"(?<=\.)\s+", proof_text(problem.solution[-1]))
        while sentences and re.fullmatch(r"(Qed|Defined)\.", sentences[-1]):
            sentences.pop()  # Qed. is added to a proof without one
        if len(problem.solution) > 1 or len(sentences) < 2:
            return Task.near_misses(self, problem)
        cut = " ".join(sentences[:-1])
        return {"the proof without its last sentence": (f"```coq\n{cut}\n```",)}


def theorem_problem(theorem: CoqTheorem) -> Problem:
    """The whole-proof problem of ``theorem``: the statement, and its reference proof as
    the solution (none when the theorem has none: the oracle has nothing to play, and
    ``taskgym validate`` says so)."""
    prompt = (
        f"{prove_after(theorem, 'Prove in Coq (Rocq)')}"
        f"Theorem goal : {theorem.statement}.\n\n"
        "Answer with the proof script in a ```coq block: the tactics after Proof., "
        "ending with Qed. Coq's kernel checks it; axioms and Admitted do not count."
    )
    proof = theorem.proof.strip()
    return Problem(
        id=theorem.id, prompt=prompt, solution=(f"```coq\n{proof}\n```",) if proof else ()
    )


def prove_after(theorem: CoqTheorem, ask: str) -> str:
    """The head of a prompt: ``ask``, then the theorem's imports if it has any, and a
    blank line before what follows."""
    imports = theorem.imports.strip()
    return f"{ask}, after\n{imports}\n\n" if imports else f"{ask}:\n\n"


def keep_coq_warm(sandbox: Sandbox) -> bool:
    """Keep ``sandbox`` and its warm coqtops for the next episode, every coqtop back at
    the state after its imports. Nothing else needs undoing: the warm path writes no
    file (its gate sends ``Redirect`` and the like to coqc), and the cold path empties
    the work directory after itself. False when there is nothing warm to keep or a
    coqtop could not go back."""
    sessions = warm_sessions(sandbox)
    return bool(sessions) and all(session.back_to_base() for session in sessions)
