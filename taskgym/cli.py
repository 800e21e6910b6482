"""The ``taskgym`` command: list, run and validate the registered envs.

The library never prints; this module is where output to a terminal lives.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from taskgym.agents import agent_names, make_agent
from taskgym.errors import (
    ConfigError,
    DependencyNotInstalledError,
    SandboxUnavailableError,
    TaskgymError,
)
from taskgym.registry import env_info, registered_ids
from taskgym.run_file import EpisodeRecord, load_run, open_run_file, write_record
from taskgym.runner import EnvSummary, full_env_id, run_episodes, summarize
from taskgym.sandboxes import sandbox_names


def main(argv: Sequence[str] | None = None) -> int:
    import taskgym  # noqa: F401, PLC0415 - registers every env

    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.command(args)
    except TaskgymError as e:
        print(f"taskgym: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("taskgym: interrupted", file=sys.stderr)
        return 130
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskgym", description="Gymnasium envs with machine-checked rewards."
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list the registered envs")
    p.add_argument("--family", help="only envs of this family (math, code, shell, ...)")
    p.set_defaults(command=_cmd_list)

    p = sub.add_parser("run", help="play episodes and write one JSON line per episode")
    _add_env_selection(p)
    p.add_argument(
        "--agent",
        default="oracle",
        help=f"{', '.join(agent_names())}, or module:Class (default: oracle)",
    )
    model = p.add_argument_group("the openai agent (any OpenAI-compatible chat endpoint)")
    model.add_argument("--model", help="the model name the endpoint serves")
    model.add_argument(
        "--base-url", help="the API root, e.g. http://localhost:8000/v1 (OPENAI_BASE_URL)"
    )
    model.add_argument(
        "--api-key-env",
        default=None,
        help="the environment variable with the key (OPENAI_API_KEY)",
    )
    model.add_argument("--tools", choices=["auto", "on", "off"], help="tool calling (auto)")
    model.add_argument("--temperature", type=float, help="sampling temperature (0)")
    model.add_argument("--max-tokens", type=_positive, help="tokens a reply at most")
    model.add_argument("--retries", type=int, help="retries of a failed request (5)")
    model.add_argument("--price-in", type=float, help="USD a million prompt tokens (0)")
    model.add_argument("--price-out", type=float, help="USD a million completion tokens (0)")
    p.add_argument("--episodes", type=_positive, default=10, help="episodes per env (10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first episode (0)")
    p.add_argument("--out", type=Path, help="write the episodes to this JSONL file")
    p.add_argument("--reward", type=_reward_spec, help="reward name or JSON spec")
    p.add_argument(
        "--executor",
        metavar="{inline,process,ray}",
        help="play the episodes through an executor (taskgym.parallel): inline threads, "
        "worker processes, or Ray actors (a local Ray, or the cluster RAY_ADDRESS names), "
        "or one registered with register_executor; default: one after another here",
    )
    p.add_argument(
        "--concurrency",
        type=_positive,
        help="episodes in flight in all (inline: 1; process, ray: one a worker)",
    )
    p.add_argument(
        "--workers",
        type=_positive,
        help="processes or Ray actors sharing the episodes (default: one a core)",
    )
    p.add_argument(
        "--timeout", type=float, help="seconds an episode may take (--executor process|ray)"
    )
    p.set_defaults(command=_cmd_run)

    p = sub.add_parser(
        "validate", help="check that the oracle earns the top reward and the null agent none"
    )
    _add_env_selection(p)
    p.add_argument("--seeds", type=_positive, default=5, help="episodes per env and agent (5)")
    p.add_argument(
        "--every-task",
        action="store_true",
        help="one episode per problem, for envs with a fixed set of them (task files, shell "
        "task directories); --seeds for the others",
    )
    p.set_defaults(command=_cmd_validate)

    p = sub.add_parser("images", help="build the docker sandbox's images (no registry needed)")
    p.add_argument("action", choices=["build"])
    p.add_argument(
        "--base",
        default=None,
        help="build FROM this image instead of the offline debootstrap base "
        "(for example python:3.11-slim, where a registry is reachable)",
    )
    p.add_argument("--force", action="store_true", help="rebuild images that exist")
    p.set_defaults(command=_cmd_images)

    _add_tool_commands(sub)
    return parser


def _add_tool_commands(sub: Any) -> None:
    """The commands around the envs: reports, task skeletons."""
    p = sub.add_parser(
        "report", help="a run file as a self-contained HTML page, and a summary table"
    )
    p.add_argument("run_file", type=Path, metavar="RUN.jsonl")
    p.add_argument("--out", type=Path, help="the page to write (default: RUN.html beside it)")
    p.set_defaults(command=_cmd_report)

    p = sub.add_parser(
        "new-task", help="write the skeleton of a task, its problems file and its test"
    )
    p.add_argument("family", help="math, code, shell, or a family of your own")
    p.add_argument("name", help="the env's name in CamelCase, such as WordLadder")
    p.add_argument("--dir", type=Path, default=Path("."), help="where to write (.)")
    p.add_argument(
        "--package", help="the dotted package of --dir, if it is one (e.g. taskgym.envs.math)"
    )
    p.set_defaults(command=_cmd_new_task)


def _cmd_report(args: argparse.Namespace) -> int:
    from taskgym.report import render_html, summary_rows  # noqa: PLC0415

    records = load_run(args.run_file)
    out = args.out or args.run_file.with_suffix(".html")
    out.write_text(render_html(records, title=f"taskgym run {args.run_file.name}"))
    rows = [
        (
            r.env_id,
            str(r.episodes),
            f"{r.mean_reward:.3f}",
            f"{r.pass_rate:.1%}",
            f"{r.mean_turns:.2f}",
        )
        for r in summary_rows(records)
    ]
    _print_table(("env id", "episodes", "mean reward", "pass rate", "mean turns"), rows)
    print(f"\nreport written to {out}")
    return 0


def _cmd_new_task(args: argparse.Namespace) -> int:
    from taskgym.scaffold import new_task  # noqa: PLC0415 - only when asked

    written = new_task(args.family, args.name, args.dir, package=args.package)
    for path in written:
        print(f"wrote {path}")
    module = f"{args.package}.{written[0].stem}" if args.package else written[0].stem
    print(
        "\nFill in the TODOs and keep the test green (python -m pytest "
        f"{written[2]}). To ship it in taskgym, add to taskgym/envs/{args.family}/__init__.py:"
        f'\n    register_task("{args.name}", "{module}:{args.name}Task", '
        f'family="{args.family}", description="...")'
    )
    return 0


def _add_env_selection(p: argparse.ArgumentParser) -> None:
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
        metavar="KEY=VALUE",
        type=_option,
        help="an option for the envs, e.g. --set tasks=my_tasks.jsonl (a JSON value or text)",
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"options are KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _reward_spec(text: str) -> Any:
    return json.loads(text) if text.lstrip().startswith(("{", "[", '"')) else text


def _selected(args: argparse.Namespace) -> list[str]:
    return [full_env_id(e) for e in args.env_ids] or registered_ids(self_contained=True)


def _make_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    kwargs: dict[str, Any] = dict(args.set)
    if args.sandbox:
        kwargs["sandbox"] = args.sandbox
    if getattr(args, "reward", None) is not None:
        kwargs["reward"] = args.reward
    return kwargs


def _cmd_list(args: argparse.Namespace) -> int:
    rows = []
    for env_id in registered_ids(args.family):
        info = env_info(env_id)
        needs = f" (needs --set {', '.join(info.requires)}=...)" if info.requires else ""
        rows.append((env_id, info.family, info.description + needs))
    _print_table(("env id", "family", "description"), rows)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    env_ids = _selected(args)
    if args.executor is None and (args.concurrency or args.timeout or args.workers):
        raise ConfigError(
            "--concurrency, --workers and --timeout go with --executor inline|process|ray"
        )
    records: list[EpisodeRecord] = []
    failed: list[str] = []
    out = open_run_file(args.out) if args.out is not None else None
    progress = _Progress(total=len(env_ids) * args.episodes)
    try:
        played = (
            _sequential(args, env_ids)
            if args.executor is None
            else _through_executor(args, env_ids, failed)
        )
        for record in played:
            records.append(record)
            if out is not None:
                # One line as each episode ends, so an interrupted run keeps its work.
                write_record(out, record)
            progress.advance(record.env_id)
    finally:
        progress.finish()
        if out is not None:
            out.close()
    _print_summary(summarize(records))
    if args.out is not None:
        print(f"\n{len(records)} episodes written to {args.out}")
    if failed:
        print(f"{len(failed)} episode(s) failed:", *failed, sep="\n  ", file=sys.stderr)
        return 1
    return 0


# The model agent's flags, each its keyword argument of the same name.
_AGENT_FLAGS = (
    "model",
    "base_url",
    "api_key_env",
    "tools",
    "temperature",
    "max_tokens",
    "retries",
    "price_in",
    "price_out",
)


def _agent_options(args: argparse.Namespace) -> dict[str, Any]:
    """The agent's keyword arguments from the flags given (JSON values)."""
    options = {
        flag: getattr(args, flag) for flag in _AGENT_FLAGS if getattr(args, flag) is not None
    }
    if options and args.agent != "openai" and ":" not in args.agent:
        raise ConfigError(f"--{next(iter(options)).replace('_', '-')} goes with --agent openai")
    return options


def _sequential(args: argparse.Namespace, env_ids: list[str]) -> Iterator[EpisodeRecord]:
    agent = make_agent(args.agent, **_agent_options(args))
    for env_id in env_ids:
        episodes = run_episodes(
            env_id,
            agent,
            episodes=args.episodes,
            seed=args.seed,
            make_kwargs=_make_kwargs(args),
        )
        yield from _unless_unavailable(args, env_id, episodes)


_UNAVAILABLE = {SandboxUnavailableError.__name__, DependencyNotInstalledError.__name__}


def _through_executor(
    args: argparse.Namespace, env_ids: list[str], failed: list[str]
) -> Iterator[EpisodeRecord]:
    """The episodes played by an executor, in order; a failed one is noted in
    ``failed``, and an env whose sandbox or extra is missing is skipped as above."""
    from taskgym.parallel import EpisodeSpec, make_executor  # noqa: PLC0415 - only when asked

    kwargs = _make_kwargs(args)
    agent_options = _agent_options(args)
    specs = [
        EpisodeSpec(
            env_id,
            seed=args.seed + i,
            kwargs=kwargs,
            agent=args.agent,
            agent_options=agent_options,
            episode=i,
        )
        for env_id in env_ids
        for i in range(args.episodes)
    ]
    skipped: set[str] = set()
    with make_executor(
        args.executor, concurrency=args.concurrency, timeout=args.timeout, workers=args.workers
    ) as executor:
        for result in executor.map(specs):
            env_id = result.spec.env_id
            if result.record is not None:
                yield result.record
            elif result.error_type in _UNAVAILABLE and not args.env_ids:
                if env_id not in skipped:
                    print(f"skipped {env_id}: {result.error}", file=sys.stderr)
                skipped.add(env_id)
            else:
                failed.append(f"{env_id} episode {result.spec.episode}: {result.error}")


def _unless_unavailable(
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
        print(f"skipped {env_id}: {e}", file=sys.stderr)


def _cmd_validate(args: argparse.Namespace) -> int:
    rows, failures = [], 0
    for env_id in _selected(args):
        kwargs = _make_kwargs(args)
        plan = {"episodes": args.seeds, "make_kwargs": kwargs, "every_task": args.every_task}
        oracle = list(
            _unless_unavailable(args, env_id, run_episodes(env_id, make_agent("oracle"), **plan))
        )
        if not oracle:
            continue
        null = list(run_episodes(env_id, make_agent("null"), **plan))
        wrong = sorted(
            {r.task_id for r in oracle if r.reward != 1.0 or not r.verdict.get("solved")}
            | {r.task_id for r in null if r.reward > 0.0 or r.verdict.get("solved")}
        )
        failures += bool(wrong)
        rows.append(
            (
                env_id,
                str(len(oracle)),
                f"{_mean(r.reward for r in oracle):.3f}",
                f"{_mean(r.reward for r in null):.3f}",
                "ok" if not wrong else "FAIL: " + ", ".join(wrong[:5]),
            )
        )
    _print_table(("env id", "episodes", "oracle reward", "null reward", "result"), rows)
    if failures:
        print(f"\n{failures} env(s) failed: the oracle must earn 1.0 and the null agent 0.0")
        return 1
    return 0


def _cmd_images(args: argparse.Namespace) -> int:
    from taskgym.sandboxes import images  # noqa: PLC0415 - only this command needs it

    base = args.base
    if base is None:
        print(f"base image {images.BASE_IMAGE} (debootstrap, then docker import) ...")
        base = images.build_base_image(force=args.force)
    for name in sorted(p.name for p in images.IMAGES_DIR.iterdir() if (p / "Dockerfile").is_file()):
        tag = images.build_image(name, base=base, force=args.force)
        print(f"built {tag} FROM {base}")
    return 0


def _mean(values: Any) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def _print_summary(summaries: list[EnvSummary]) -> None:
    rows = [
        (
            s.env_id,
            str(s.episodes),
            f"{s.mean_reward:.3f}",
            f"{s.solved:.0%}",
            f"{s.mean_turns:.1f}",
        )
        for s in summaries
    ]
    _print_table(("env id", "episodes", "mean reward", "solved", "mean turns"), rows)


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    for line in (header, ["-" * w for w in widths], *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())


class _Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.enabled = stream.isatty() and os.environ.get("TERM") != "dumb"

    def advance(self, label: str) -> None:
        self.done += 1
        if self.enabled:
            filled = int(30 * self.done / self.total)
            bar = "#" * filled + "." * (30 - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[:40]:<40}")
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


if __name__ == "__main__":
    sys.exit(main())
