"""``taskgym new-task FAMILY Name``: write the skeleton of a task of the family's kind
(:mod:`taskgym.scaffold`), and say how to play it and how to ship it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from taskgym.errors import ConfigError
from taskgym.registry import env_info, registered_ids

if TYPE_CHECKING:
    from taskgym.cli.shared import Subcommands

_FAMILIES_IN_TASKGYM = ("code", "math", "shell")


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser(
        "new-task",
        help="write the skeleton of a task: a shell or function task directory (shell, "
        "code), or a task module with its problems and its test (other families)",
    )
    p.add_argument("family", help="shell, code, math, or a family of your own")
    p.add_argument("name", help="the task's name in CamelCase, such as WordLadder")
    p.add_argument("--dir", type=Path, default=Path("."), help="where to write (.)")
    p.add_argument(
        "--package",
        help="the dotted package --dir is importable as (default: found from the "
        "__init__.py files above it; none: --dir itself is on sys.path)",
    )
    p.add_argument(
        "--project",
        action="store_true",
        help="write an installable project in --dir instead: pyproject.toml whose entry "
        "point (group taskgym.tasks) registers the env, the package, and its test; "
        "`pip install -e DIR` makes the task known to every taskgym command",
    )
    p.set_defaults(command=command)


def command(args: argparse.Namespace) -> int:
    from taskgym.scaffold import DATA_FAMILIES, module_name, new_task  # noqa: PLC0415

    if args.project:
        return _new_project(args)
    if args.family in DATA_FAMILIES:
        _refuse_bundled_id(args.family, module_name(args.name).replace("_", "-"))
    else:
        _refuse_registered(args.name)
    written = new_task(args.family, args.name, args.dir, package=args.package)
    for path in written:
        print(f"wrote {path}")
    if args.family in DATA_FAMILIES:
        _say_how_to_ship_data(args.family, written[0].parent)
    else:
        _say_how_to_ship_module(args, written)
    return 0


def _new_project(args: argparse.Namespace) -> int:
    from taskgym.scaffold import new_task_project  # noqa: PLC0415

    if args.package is not None:
        raise ConfigError("--package is for a task module; a --project names its own package")
    _refuse_registered(args.name)
    written = new_task_project(args.family, args.name, args.dir)
    for path in written:
        print(f"wrote {path}")
    root = written[0].parent
    print(
        "\nInstall it (editable, so that your edits count at once), then fill in the TODOs"
        " and keep it valid (the reference must earn 1.0, doing nothing 0.0):"
        f"\n    pip install -e {root}"
        f"\n    taskgym validate {args.name}-v0"
        f"\n    python -m pytest {root / 'tests'}"
        "\nEvery taskgym command and trainer adapter finds it by its entry point; publish the"
        " project as any Python package to ship it."
    )
    return 0


def _refuse_registered(name: str) -> None:
    env_id = f"taskgym/{name}-v0"
    if env_id in registered_ids():
        raise ConfigError(
            f"{env_id} is a registered env already ({env_info(env_id).family}): a task of "
            "the same name would replace it; choose another name"
        )


def _refuse_bundled_id(family: str, task_id: str) -> None:
    """A data task whose id a bundled task has would clash with it once shipped."""
    from taskgym.envs.code.functions import BUNDLED_FUNCTIONS, load_function_tasks  # noqa: PLC0415
    from taskgym.envs.shell.tasks import BUNDLED_SHELL_TASKS, load_shell_tasks  # noqa: PLC0415

    shell = family == "shell"
    root = Path(BUNDLED_SHELL_TASKS if shell else BUNDLED_FUNCTIONS)
    bundled = load_shell_tasks(root) if shell else load_function_tasks(root)
    ids = {record.id for record in bundled} | {d.name for d in root.iterdir()}
    if task_id in ids or (shell and f"shell-{task_id}" in ids):
        raise ConfigError(f"a bundled {family} task is named {task_id!r}; choose another name")


def _say_how_to_ship_data(family: str, task_dir: Path) -> None:
    from taskgym.scaffold import DATA_FAMILIES  # noqa: PLC0415

    env_id = DATA_FAMILIES[family].removeprefix("taskgym/")
    data = "taskgym/envs/shell/data/" if family == "shell" else "taskgym/envs/code/data/functions/"
    print(
        "\nFill in the TODOs, then play it (the reference must earn 1.0, doing nothing 0.0):"
        f"\n    taskgym validate {env_id} --set tasks={task_dir} --every-task"
        f"\nTo ship it in taskgym, move {task_dir.name}/ into {data}"
    )


def _say_how_to_ship_module(args: argparse.Namespace, written: list[Path]) -> None:
    module, test = written[0].stem, written[2]
    package = args.package if args.package is not None else _package_of(args.dir)
    here = f"{package}.{module}" if package else module
    line = 'register_task("{name}", "{path}:{name}Task", family="{family}", description="...")'
    where = f"package {package}" if package else f"{args.dir} on sys.path"
    print(
        f"\nFill in the TODOs and keep the test green: python -m pytest {test}"
        f"\nTo register it where it is ({where}):"
        f"\n    {line.format(name=args.name, path=here, family=args.family)}"
    )
    shipped = f"taskgym.envs.{args.family}.{module}"
    new_family = "" if args.family in _FAMILIES_IN_TASKGYM else " (a new package)"
    print(
        f"To ship it in taskgym, move {module}.py and {module}.jsonl into "
        f"taskgym/envs/{args.family}/{new_family} and add to its __init__.py:"
        f"\n    {line.format(name=args.name, path=shipped, family=args.family)}"
    )


def _package_of(directory: Path) -> str:
    """The dotted package ``directory`` is, from the ``__init__.py`` files in it and
    above it ("" when it has none: a directory on sys.path)."""
    parts: list[str] = []
    here = directory.resolve()
    while (here / "__init__.py").is_file():
        parts.insert(0, here.name)
        here = here.parent
    return ".".join(parts)
