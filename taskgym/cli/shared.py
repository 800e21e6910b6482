"""What several commands share: choosing the envs (``ENV_ID ...``, ``--sandbox``,
``--set [ENV_ID:]KEY=VALUE``, each option checked against what its env takes), skipping
one that cannot run here, argument types, and the plain table every command prints."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from taskgym.errors import ConfigError, DependencyNotInstalledError, SandboxUnavailableError
from taskgym.registry import IMPORT_VARIABLE, import_tasks, registered_ids
from taskgym.runner import full_env_id
from taskgym.sandboxes import DOCTOR_HINT, sandbox_names

if TYPE_CHECKING:
    from taskgym.run_file import EpisodeRecord

    Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]
    """What a command module adds its parser to."""


def add_import(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import a module (my_tasks, mypkg.tasks) or a script (path/to/tasks.py) that "
        "registers envs, before the envs are chosen; repeatable. Installed packages' tasks "
        "(entry points of group taskgym.tasks) are found without it",
    )


def import_requested(args: argparse.Namespace) -> None:
    """Import the ``--import`` modules, in order, and name them in ``TASKGYM_IMPORT`` so
    that worker processes (``--executor process``) import them too."""
    names = getattr(args, "imports", [])
    for name in names:
        import_tasks(name)
    if names:  # scripts by absolute path: a worker may start elsewhere
        given = os.environ.get(IMPORT_VARIABLE, "").split(os.pathsep)
        given += [os.path.abspath(n) if n.endswith(".py") else n for n in names]
        os.environ[IMPORT_VARIABLE] = os.pathsep.join(dict.fromkeys(filter(None, given)))


def add_env_selection(p: argparse.ArgumentParser) -> None:
    add_import(p)
    p.add_argument(
        "env_ids",
        nargs="*",
        metavar="ENV_ID",
        help="default: every registered env that needs no option (see `taskgym list`)",
    )
    p.add_argument(
        "--sandbox", choices=sandbox_names(), help="sandbox backend (default: each env's own)"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="[ENV_ID:]KEY=VALUE",
        type=_option,
        help="an option of the envs (a JSON value, else text): --set difficulty=hard for "
        "every env chosen, --set MathAnswers-v0:tasks=my.jsonl for that env only",
    )


def check_options(env_id: str, keys: Iterable[str]) -> None:
    """ConfigError naming ``env_id``'s options when ``keys`` has one it does not take
    (before the env is made, so that a typo is one line, not make's TypeError)."""
    keys = set(keys)
    if not keys:
        return
    import gymnasium  # noqa: PLC0415 - only when options are given

    from taskgym.envs.env import TaskEnv  # noqa: PLC0415
    from taskgym.envs.loading import task_options  # noqa: PLC0415

    taken = task_options(gymnasium.spec(env_id).kwargs["task"])
    if taken is None:  # the task's constructor will say
        return
    every_env = set(inspect.signature(TaskEnv.__init__).parameters) - {"self", "task"}
    every_env -= {"task_options", "sandbox_pool"}
    unknown = sorted(keys - set(taken) - every_env)
    if unknown:
        current = sorted(name for name, deprecated in taken.items() if not deprecated)
        raise ConfigError(
            f"{env_id} takes no option {', '.join(unknown)}; its options are "
            f"{', '.join(current) or '(none)'}, and every env's {', '.join(sorted(every_env))}"
        )


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def seed(text: str) -> int:
    """A seed: an int >= 0 (gymnasium refuses others)."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is an int >= 0, got {value}")
    return value


@dataclass(frozen=True)
class Option:
    """One ``--set``: ``key=value`` for every env chosen, or for ``env_id`` alone."""

    env_id: str | None
    key: str
    value: Any


def _option(text: str) -> Option:
    target, sep, value = text.partition("=")
    env_id, _, key = target.rpartition(":")
    if not sep or not key.isidentifier() or (":" in target and not env_id):
        raise argparse.ArgumentTypeError(
            f"options are KEY=VALUE or ENV_ID:KEY=VALUE (KEY a Python name), got {text!r}"
        )
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    return Option(env_id or None, key, parsed)


def selected(args: argparse.Namespace) -> list[str]:
    """The env ids chosen, each known and each ``--set ENV_ID:`` among them; every
    option named one the env takes (a typo is an error naming the options)."""
    import_requested(args)
    env_ids = [full_env_id(e) for e in args.env_ids] or registered_ids(self_contained=True)
    for option in args.set:
        if option.env_id is not None and full_env_id(option.env_id) not in env_ids:
            raise ConfigError(
                f"--set {option.env_id}:{option.key}=... names an env not chosen; the envs "
                f"chosen are {', '.join(env_ids)}"
            )
    for env_id in env_ids:
        check_options(env_id, list(_options_of(args, env_id)))
    return env_ids


def _options_of(args: argparse.Namespace, env_id: str) -> dict[str, Any]:
    """The ``--set`` options of ``env_id``: those for every env, then its own."""
    mine = [o for o in args.set if o.env_id is None]
    mine += [o for o in args.set if o.env_id is not None and full_env_id(o.env_id) == env_id]
    return {o.key: o.value for o in mine}


def make_kwargs(args: argparse.Namespace, env_id: str) -> dict[str, Any]:
    """``make``'s options for ``env_id``."""
    kwargs = _options_of(args, env_id)
    if args.sandbox:
        kwargs["sandbox"] = args.sandbox
    if getattr(args, "reward", None) is not None:
        kwargs["reward"] = args.reward
    return kwargs


def unless_unavailable(
    args: argparse.Namespace, env_id: str, episodes: Iterator[EpisodeRecord]
) -> Iterator[EpisodeRecord]:
    """The episodes, or none with a note when the env's sandbox cannot run here (no
    bubblewrap, no pytest inside it...) or it needs an extra that is not installed, and
    the user did not name the env: one missing component does not stop a run of
    everything."""
    try:
        yield from episodes
    except (SandboxUnavailableError, DependencyNotInstalledError) as e:
        if args.env_ids:
            raise
        hint = "" if "taskgym doctor" in str(e) else DOCTOR_HINT
        print(f"skipped {env_id}: {e}{hint}", file=sys.stderr)


def mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    for line in (header, ["-" * w for w in widths], *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())


def reward_spec(text: str) -> Any:
    """A ``--reward`` value: a reward's name, or a JSON spec."""
    if not text.lstrip().startswith(("{", "[", '"')):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"a reward spec in JSON, but {e}: {text!r}") from e
