"""The episode contract: the values that flow through an episode, and the abstract task.

Data goes one way::

    Task.problem(seed) -> Problem            what the agent is asked, and what checks need
    TaskEnv.reset      -> task.setup(problem, sandbox); observation = problem.prompt
    TaskEnv.step       -> task.interact(...) -> Reply         (multi-turn tasks only)
    episode ends       -> task.check(problem, transcript, sandbox) -> Verdict
                       -> reward(Outcome(problem, transcript, verdict)) -> float

Every value here is frozen and holds no timings, so that episodes replay exactly and
gymnasium's determinism checks pass.
"""

from __future__ import annotations

import abc
import dataclasses
import json
import warnings
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, get_args

from taskgym.errors import ConfigError, UnknownTaskIdError

if TYPE_CHECKING:
    from taskgym.sandboxes.base import Sandbox

__all__ = [
    "STAGES",
    "Execution",
    "Outcome",
    "Problem",
    "Reply",
    "StageName",
    "Task",
    "Tool",
    "Turn",
    "Verdict",
]


def _require_json(value: Mapping[str, Any], what: str) -> None:
    if not value and isinstance(value, Mapping):
        return  # the common empty case, on every step of every episode
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"{what} must be JSON-serialisable (str, numbers, lists, dicts): {e}"
        ) from e


@dataclass(frozen=True)
class Problem:
    """One problem of a task: what the agent is shown and what the checks need.

    Examples:
        >>> p = Problem(id="add-1", prompt="2+2?", solution=("4",), data={"answer": 4})
        >>> p.solution
        ('4',)
    """

    id: str
    """Stable and unique within its task: ``reset(options={"task_id": id})`` replays it."""
    prompt: str
    """The first observation of the episode."""
    solution: tuple[str, ...]
    """Reference actions that solve the problem, played in order by the oracle agent."""
    data: Mapping[str, Any] = field(default_factory=dict)
    """What the checks need (expected answer, tests, ...). JSON values only; never shown
    to the agent. Treat as read-only."""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"Problem.id must be a non-empty str, got {self.id!r}")
        if not isinstance(self.prompt, str):
            raise ValueError(f"Problem.prompt must be a str, got {type(self.prompt).__name__}")
        if not isinstance(self.solution, tuple) or not all(
            isinstance(a, str) for a in self.solution
        ):
            raise ValueError("Problem.solution must be a tuple of str actions")
        _require_json(self.data, "Problem.data")


@dataclass(frozen=True)
class Verdict:
    """What the checks measured at the end of an episode. Agent mistakes live here.

    ``parsed`` is False when the answer could not be read at all (wrong format, empty,
    too long); ``passed`` of ``total`` checks succeeded. A verdict is deterministic: no
    timings, no paths that change between runs.

    Examples:
        >>> Verdict(parsed=True, passed=3, total=4).fraction
        0.75
    """

    parsed: bool
    passed: int
    total: int
    details: Mapping[str, Any] = field(default_factory=dict)
    """Why: what was parsed, which checks failed. JSON values only."""

    def __post_init__(self) -> None:
        if not (0 <= self.passed <= self.total):
            raise ValueError(
                f"Verdict needs 0 <= passed <= total, got passed={self.passed}, total={self.total}"
            )
        if not self.parsed and self.passed:
            raise ValueError("an unparsed Verdict cannot have passed checks")
        _require_json(self.details, "Verdict.details")

    @classmethod
    def unparsed(cls, reason: str, total: int = 1, **details: Any) -> Verdict:
        """A verdict for an answer that could not be read; ``reason`` says why."""
        return cls(parsed=False, passed=0, total=total, details={"reason": reason, **details})

    @property
    def solved(self) -> bool:
        """Every check passed (and there was at least one)."""
        return self.parsed and self.total > 0 and self.passed == self.total

    @property
    def fraction(self) -> float:
        """The fraction of checks that passed; 0.0 when there were none."""
        return self.passed / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A fresh plain-dict copy, as put in ``info["verdict"]`` and in run files."""
        return {
            "parsed": self.parsed,
            "passed": self.passed,
            "total": self.total,
            "solved": self.solved,
            "details": json.loads(json.dumps(self.details)) if self.details else {},
        }


@dataclass(frozen=True)
class Turn:
    """One exchange: the agent's action and the observation that answered it."""

    action: str
    observation: str


@dataclass(frozen=True)
class Reply:
    """A multi-turn task's answer to one action."""

    observation: str
    done: bool = False
    """The episode is over (the agent submitted, or the task has nothing left to ask)."""


@dataclass(frozen=True)
class Outcome:
    """Everything a reward may look at: the problem, what happened, what was measured."""

    problem: Problem
    transcript: tuple[Turn, ...]
    verdict: Verdict
    truncated: bool = False
    """The env's turn limit ended the episode before the agent or the task did."""

    @property
    def turns(self) -> int:
        return len(self.transcript)


@dataclass(frozen=True)
class Tool:
    """One kind of action of a multi-turn task, described for agents that call tools
    (an OpenAI-style function): a name, what it does, its string parameters, and how a
    call becomes the action text the task reads. Agents without tools write the action
    text itself, which the prompt explains.

    Examples:
        >>> run = Tool("run", "Run a shell command.", {"command": "the command"},
        ...            lambda args: args["command"])
        >>> run.action({"command": "ls"})
        'ls'
    """

    name: str
    description: str
    parameters: Mapping[str, str]
    """Each parameter's name and description; all are strings, all required."""
    to_action: Any = field(repr=False, compare=False)
    """``Callable[[dict[str, str]], str]``: the arguments of a call -> the action."""

    def action(self, arguments: Mapping[str, Any]) -> str:
        """The action for a call, whose arguments must be the declared strings."""
        missing = sorted(set(self.parameters) - set(arguments))
        if missing:
            raise ValueError(f"tool {self.name!r} needs {missing}")
        return str(self.to_action({k: str(arguments[k]) for k in self.parameters}))

    def schema(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": {
                    "type": "object",
                    "properties": {
                        name: {"type": "string", "description": text}
                        for name, text in self.parameters.items()
                    },
                    "required": list(self.parameters),
                },
            },
        }


StageName = Literal["problem", "interact", "check"]
"""A call into task code that the env makes: ``problem`` (with ``get``), ``interact`` or
``check``."""
STAGES: frozenset[StageName] = frozenset(get_args(StageName))


@dataclass(frozen=True)
class Execution:
    """How a task's episodes run: what the env gives the task and where the episode pool
    may call it. One validated value, so that the contract states it and the layers that
    run episodes (the env, its sandboxes, the pool) read it; a bad hint is a ConfigError
    when the task class is defined.

    Examples:
        >>> Execution(needs_sandbox=True, quick_stages={"problem"}).quick_stages
        frozenset({'problem'})
        >>> Execution(quick_stages={"reply"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        taskgym.errors.ConfigError: quick_stages names ['reply']; the stages are [...]
    """

    needs_sandbox: bool = False
    """Whether the task runs anything; tasks that do not are never given a sandbox."""
    sandbox_backends: tuple[str, ...] = ()
    """The backends the task can run in, in order of preference ("auto" picks the first
    that works here); empty means any. A task that needs its own OS image names docker."""
    runs_only_in_zygote: bool = False
    """Whether the task uses its sandbox only through :func:`~taskgym.sandboxes.zygote.
    zygote_for` (no setup files, shells or other processes). Between such episodes the
    env then scrubs the sandbox instead of resetting it, and the zygote stays warm."""
    hides_tests: bool = False
    """Whether the checks rest on files the agent must never read (hidden tests, a shell
    task's hidden checks, expected outputs): ``"auto"`` then never picks the ``local``
    backend, whose programs read any host file their uid may; it refuses instead, and
    only a user who names ``local`` gets it."""
    quick_stages: AbstractSet[StageName] = frozenset()
    """Which stages (:data:`STAGES`) are quick pure-Python calls: no I/O, no processes,
    no sandbox, well under a millisecond. The episode pool runs those on its event loop
    and hands every other stage to a thread, a hop that costs more than a quick stage
    itself. Leave out any stage that may block (a grader process, a file read on first
    use); when unsure, leave it out. Kept as a frozenset."""

    def __post_init__(self) -> None:
        for flag in ("needs_sandbox", "runs_only_in_zygote", "hides_tests"):
            if not isinstance(getattr(self, flag), bool):
                raise ConfigError(f"{flag} must be True or False, got {getattr(self, flag)!r}")
        backends = _names("sandbox_backends", self.sandbox_backends)
        stages = frozenset(_names("quick_stages", self.quick_stages))
        unknown = stages - STAGES
        if unknown:
            raise ConfigError(
                f"quick_stages names {sorted(unknown)}; the stages are {sorted(STAGES)}"
            )
        if not self.needs_sandbox and (backends or self.runs_only_in_zygote or self.hides_tests):
            raise ConfigError(
                "sandbox_backends, runs_only_in_zygote and hides_tests are for tasks that run "
                "something: set needs_sandbox=True too"
            )
        # Normalised in place: the dataclass is frozen to its users, not to itself.
        object.__setattr__(self, "sandbox_backends", backends)
        object.__setattr__(self, "quick_stages", stages)


def _names(what: str, names: Iterable[str]) -> tuple[str, ...]:
    """``names`` as a tuple of non-empty strings (a lone string is refused: it would
    read as its letters)."""
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise ConfigError(f"{what} must be a collection of names, got {names!r}")
    values = tuple(names)
    if not all(isinstance(name, str) and name for name in values):
        raise ConfigError(f"{what} must hold non-empty str names, got {values!r}")
    return values


# The hints as Task class attributes, before they were gathered into Task.execution.
_OLD_HINTS = ("needs_sandbox", "sandbox_backends", "runs_only_in_zygote", "quick_stages")


class Task(abc.ABC):
    """A source of problems and the checks that grade them.

    Subclasses are usually frozen dataclasses whose fields are the task's options, so
    that ``gymnasium.make(env_id, difficulty="hard")`` reaches them and an unknown option
    raises ``TypeError``. Implement :meth:`problem` and :meth:`check`; multi-turn tasks
    also set :attr:`multi_turn` and implement :meth:`interact`; tasks that run programs
    declare ``execution = Execution(needs_sandbox=True)`` and receive a live sandbox in
    :meth:`setup`, :meth:`interact` and :meth:`check`.

    ``problem(seed)`` must be a pure function of ``seed``, and ``get(problem(s).id)`` must
    give the same problem back.
    """

    family: ClassVar[str] = "generic"
    """The family the task belongs to (math, code, shell, ...), shown in ``info``."""
    execution: ClassVar[Execution] = Execution()
    """How the task's episodes run (a sandbox, which backends, the zygote, the quick
    stages); see :class:`Execution`. The default: no sandbox, nothing declared quick."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Read the hints a subclass sets as class attributes of their own, the way
        before :attr:`execution` (``needs_sandbox = True``...), into its ``execution``,
        with a DeprecationWarning."""
        super().__init_subclass__(**kwargs)
        old = {name: cls.__dict__[name] for name in _OLD_HINTS if name in cls.__dict__}
        if not old:
            return
        if "execution" in cls.__dict__:
            raise ConfigError(
                f"{cls.__name__} sets both execution and {sorted(old)}; "
                "keep execution = Execution(...) alone"
            )
        settings = ", ".join(f"{name}={value!r}" for name, value in old.items())
        warnings.warn(
            f"{cls.__name__} sets {sorted(old)} as class attributes, which is deprecated: "
            f"declare execution = Execution({settings}) (from taskgym import Execution) instead",
            DeprecationWarning,
            stacklevel=3,  # past ABCMeta.__new__, to the class statement
        )
        cls.execution = dataclasses.replace(cls.execution, **old)

    def sandbox_options(self) -> dict[str, Any]:
        """Options the task's sandbox needs (an image, limits); the user's win."""
        return {}

    def problem_sandbox(self, problem: Problem) -> tuple[str, dict[str, Any]] | None:
        """The backend and options one problem needs when they are not the env's (a
        shell task that runs in a Docker image of its own), or None for the env's
        sandbox. The env then gives that problem a sandbox of its own."""
        return None

    @property
    def multi_turn(self) -> bool:
        """Whether an episode goes on after the first action (see :meth:`interact`)."""
        return False

    @property
    def default_max_turns(self) -> int:
        """The turn limit when the registration and ``make`` do not set one."""
        return 1 if not self.multi_turn else 20

    def with_turn_limit(self, max_turns: int) -> Task:
        """The task as an env plays it with a turn limit of ``max_turns`` (its
        ``max_turns`` option or a gymnasium ``TimeLimit``), called when that is not
        :attr:`default_max_turns`: a task whose prompts or replies count turns
        (attempts, runs, "3 turn(s) left") returns a copy that counts from the limit
        that really holds, never more turns than its own. The default, for tasks whose
        texts name no turn count, returns the task itself."""
        return self

    @abc.abstractmethod
    def problem(self, seed: int) -> Problem:
        """The problem for ``seed``: the same seed always gives the same problem."""

    def get(self, task_id: str) -> Problem:
        """The problem whose id is ``task_id``; raise UnknownTaskIdError if none is."""
        raise UnknownTaskIdError(
            f"{type(self).__name__} cannot look problems up by id (asked for {task_id!r}); "
            "reset with a seed instead"
        )

    def task_ids(self) -> Sequence[str] | None:
        """Every problem's id, for tasks with a fixed set of problems (a data file); None
        for procedural tasks, whose problems are made from seeds."""
        return None

    def keep_warm(self, sandbox: Sandbox) -> bool:
        """Make ``sandbox`` as new for the next episode while the task's warm processes
        (a proof checker) keep running, and say whether that worked. False, the default,
        has the env reset it, which stops them, unless the task runs only in the zygote
        (:attr:`Execution.runs_only_in_zygote`): the env then scrubs it through its
        zygotes, which stay warm."""
        return False

    def tools(self) -> Sequence[Tool]:
        """The actions of a multi-turn task as tools, for agents that call tools; empty
        (the default) when the action is plain text (an answer, a program)."""
        return ()

    def episode_info(self, problem: Problem) -> Mapping[str, Any]:
        """What the env adds to ``info`` for ``problem`` besides its own keys (``task_id``,
        ``family``, ``turn``, ``verdict``, which win): JSON values, the same whenever
        asked (a mixture's source, a curriculum's level). Empty by default."""
        return {}

    def setup(self, problem: Problem, sandbox: Sandbox) -> None:  # noqa: B027 - optional hook
        """Prepare the sandbox for ``problem`` before the first observation."""

    def interact(
        self, problem: Problem, transcript: Sequence[Turn], action: str, sandbox: Sandbox
    ) -> Reply:
        """Answer one action of a multi-turn episode; ``transcript`` holds earlier turns."""
        raise NotImplementedError(
            f"{type(self).__name__} is multi-turn but does not implement interact()"
        )

    @abc.abstractmethod
    def check(self, problem: Problem, transcript: Sequence[Turn], sandbox: Sandbox) -> Verdict:
        """Measure the finished episode. Agent mistakes go in the Verdict; raise only for
        failures of the task or the framework (they become :class:`CheckerError`)."""

    def may_share_answer(self, problem: Problem, other: Problem) -> bool:
        """Whether a solution of ``other`` may rightly solve ``problem`` too (equal final
        answers; a tactic such as ``lia.`` that proves many theorems). The conformance
        checks play a problem's reference on another problem and expect less than full
        reward, unless the two references are the same or this says True. Default: False."""
        return False

    def near_misses(self, problem: Problem) -> Mapping[str, tuple[str, ...]]:
        """Wrong action plans close to ``problem``'s reference, each under what makes it
        wrong. The conformance checks play each (then empty actions until the episode
        ends) and expect less than full reward, so that a check which accepts almost-right
        work is caught. The default: the reference without its last action (when it has
        two or more), and, where its last action's final answer is a number (no code
        fence, nothing but tags and punctuation after its last digit), that number plus
        one and negated. Families add their own (a proof short of its last tactic, code
        wrong on one hidden test); a task whose last action only ends the episode (a
        shell's ``submit``) must override it, or the default drops that action instead
        of work."""
        return _default_near_misses(problem.solution)


def _default_near_misses(plan: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    misses: dict[str, tuple[str, ...]] = {}
    if len(plan) >= 2:
        misses["the reference without its last action"] = plan[:-1]
    if plan:
        for why, wrong in _final_number_perturbed(plan[-1]).items():
            misses[why] = (*plan[:-1], wrong)
    return misses


_DIGITS = "0123456789"


def _final_number_perturbed(action: str) -> dict[str, str]:
    """``action`` with its final number plus one and negated, when its final answer is a
    number; empty otherwise. One backward scan: linear in the action's length."""
    if "```" in action:  # a program: its last number need not be the answer
        return {}
    end, tags = len(action), "<" in action
    while end and action[end - 1] not in _DIGITS:
        char = action[end - 1]
        opening = action.rfind("<", 0, end - 1) if tags and char == ">" else -1
        tags = tags and opening != -1  # no '<' before: none further back either
        if opening != -1:  # skip a closing tag such as </answer>
            end = opening
        elif char.isalnum():  # words after the number: it is not the final answer
            return {}
        else:
            end -= 1
    start = end
    while start and action[start - 1] in _DIGITS:
        start -= 1
    if start == end:
        return {}
    digits = action[start:end]
    plus_one = str(int(digits) + 1).zfill(len(digits))
    misses = {"the final number off by one": action[:start] + plus_one + action[end:]}
    first = start  # the whole number (a decimal, a fraction) takes the sign
    while first and action[first - 1] in _DIGITS + "./":
        first -= 1
    if any(c in "123456789" for c in action[first:end]):  # -0 is 0
        sign = action[first - 1] if first else ""
        if sign == "-":
            negated = action[: first - 1] + action[first:]
        elif sign == "+":
            negated = f"{action[: first - 1]}-{action[first:]}"
        else:
            negated = f"{action[:first]}-{action[first:]}"
        misses["the final number negated"] = negated
    return misses
