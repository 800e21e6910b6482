"""``taskgym run``: play episodes with an agent, print a summary, and write them to a
run file as each ends (``--out``); one after another here, or through an executor."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taskgym.agents import agent_names, make_agent
from taskgym.cli.progress import Progress
from taskgym.cli.shared import (
    add_env_selection,
    make_kwargs,
    positive,
    print_table,
    reward_spec,
    seed,
    selected,
    unless_unavailable,
)
from taskgym.errors import ConfigError, DependencyNotInstalledError, SandboxUnavailableError
from taskgym.evaluation import pass_at_k_table, replay_specs
from taskgym.run_file import EpisodeRecord, load_run, open_run_file, write_record
from taskgym.runner import EnvSummary, run_episodes, summarize

if TYPE_CHECKING:
    from taskgym.cli.shared import Subcommands


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser("run", help="play episodes and write one JSON line per episode")
    add_env_selection(p)
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
    model.add_argument("--max-tokens", type=positive, help="tokens a reply at most")
    model.add_argument("--retries", type=int, help="retries of a failed request (5)")
    model.add_argument("--price-in", type=float, help="USD a million prompt tokens (0)")
    model.add_argument("--price-out", type=float, help="USD a million completion tokens (0)")
    p.add_argument("--episodes", type=positive, default=10, help="problems per env (10)")
    p.add_argument(
        "--samples",
        type=positive,
        default=1,
        help="play each problem this many times; the summary gives pass@1 and pass@k (1)",
    )
    p.add_argument(
        "--per-task", action="store_true", help="with --samples: pass@k of each task too"
    )
    p.add_argument(
        "--replay",
        type=Path,
        metavar="RUN.jsonl",
        help="play a run file's episodes again (same envs, options, seeds and problems) "
        "with their recorded actions, and say which rewards differ",
    )
    p.add_argument(
        "--replay-agent",
        action="store_true",
        help="with --replay: the recorded agent plays again instead of its actions",
    )
    p.add_argument("--seed", type=seed, default=0, help="seed of the first episode (0)")
    p.add_argument("--out", type=Path, help="write the episodes to this JSONL file")
    p.add_argument("--reward", type=reward_spec, help="reward name or JSON spec")
    p.add_argument(
        "--executor",
        metavar="{inline,process,ray}",
        help="play the episodes through an executor (taskgym.parallel): inline threads, "
        "worker processes, or Ray actors (a local Ray, or the cluster RAY_ADDRESS names), "
        "or one registered with register_executor; default: one after another here",
    )
    p.add_argument(
        "--concurrency",
        type=positive,
        help="episodes in flight in all (inline: 1; process, ray: one a worker)",
    )
    p.add_argument(
        "--workers",
        type=positive,
        help="processes or Ray actors sharing the episodes (default: one a core)",
    )
    p.add_argument(
        "--timeout", type=float, help="seconds an episode may take (--executor process|ray)"
    )
    p.set_defaults(command=command)


def command(args: argparse.Namespace) -> int:
    if args.executor is None and (args.concurrency or args.timeout or args.workers):
        raise ConfigError(
            "--concurrency, --workers and --timeout go with --executor inline|process|ray"
        )
    if args.replay is not None:
        return _replay(args)
    if args.replay_agent:
        raise ConfigError("--replay-agent goes with --replay RUN.jsonl")
    env_ids = selected(args)
    failed: list[str] = []
    played = (
        _sequential(args, env_ids)
        if args.executor is None
        else _through_executor(args, env_ids, failed)
    )
    records = _collect(args, played, total=len(env_ids) * args.episodes * args.samples)
    _print_summary(summarize(records))
    if args.samples > 1:
        print_pass_at_k([r.to_json() for r in records], args.samples, per_task=args.per_task)
    if args.out is not None:
        print(f"\n{len(records)} episodes written to {args.out}")
    if failed:
        print(f"{len(failed)} episode(s) failed:", *failed, sep="\n  ", file=sys.stderr)
        return 1
    return 0


def _collect(
    args: argparse.Namespace, played: Iterator[EpisodeRecord], *, total: int
) -> list[EpisodeRecord]:
    """The records ``played`` gives, each written to ``--out`` as it ends (so an
    interrupted run keeps its work), with the progress line drawn meanwhile."""
    records: list[EpisodeRecord] = []
    out = open_run_file(args.out) if args.out is not None else None
    progress = Progress(total=total)
    try:
        for record in played:
            records.append(record)
            if out is not None:
                write_record(out, record)
            progress.advance(record.env_id)
    finally:
        progress.finish()
        if out is not None:
            out.close()
    return records


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
    if args.agent == "openai" and args.model is None:
        raise ConfigError("--agent openai needs --model, the model name the endpoint serves")
    return options


def _sequential(args: argparse.Namespace, env_ids: list[str]) -> Iterator[EpisodeRecord]:
    agent = make_agent(args.agent, **_agent_options(args))
    for env_id in env_ids:
        episodes = run_episodes(
            env_id,
            agent,
            episodes=args.episodes,
            seed=args.seed,
            make_kwargs=make_kwargs(args, env_id),
            samples=args.samples,
        )
        yield from unless_unavailable(args, env_id, episodes)


_UNAVAILABLE = {SandboxUnavailableError.__name__, DependencyNotInstalledError.__name__}


def _through_executor(
    args: argparse.Namespace, env_ids: list[str], failed: list[str]
) -> Iterator[EpisodeRecord]:
    """The episodes played by an executor, in order; a failed one is noted in
    ``failed``, and an env whose sandbox or extra is missing is skipped as above."""
    from taskgym.parallel import EpisodeSpec  # noqa: PLC0415 - only when asked

    agent_options = _agent_options(args)
    specs = [
        EpisodeSpec(
            env_id,
            seed=args.seed + i,
            kwargs=make_kwargs(args, env_id),
            agent=args.agent,
            agent_options=agent_options,
            episode=i * args.samples + sample,
            sample=sample,
        )
        for env_id in env_ids
        for i in range(args.episodes)
        for sample in range(args.samples)
    ]
    yield from _played(args, specs, failed)


def _played(
    args: argparse.Namespace, specs: list[Any], failed: list[str]
) -> Iterator[EpisodeRecord]:
    """``specs`` played by ``args``' executor (inline if none), their records in order."""
    from taskgym.parallel import make_executor  # noqa: PLC0415 - only when asked

    skipped: set[str] = set()
    with make_executor(
        args.executor or "inline",
        concurrency=args.concurrency,
        timeout=args.timeout,
        workers=args.workers,
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


def _replay(args: argparse.Namespace) -> int:
    """``--replay RUN.jsonl``: the run's episodes again, compared reward by reward."""
    if args.env_ids or args.samples > 1:
        raise ConfigError(
            "--replay plays the run file's envs and problems: leave out env ids and --samples"
        )
    recorded = load_run(args.replay)
    specs = replay_specs(recorded, actions=not args.replay_agent, reward=args.reward)
    failed: list[str] = []
    records = _collect(args, _played(args, specs, failed), total=len(specs))
    _print_summary(summarize(records))
    by_episode = {(r.env_id, r.episode): r.reward for r in records}
    differ = [
        f"{old['env_id']} episode {old['episode']}: {old['reward']} then {by_episode[key]}"
        for old in recorded
        if (key := (old["env_id"], old["episode"])) in by_episode
        and by_episode[key] != old["reward"]
    ]
    print(
        f"\n{len(records) - len(differ)} of {len(recorded)} episodes reached their recorded reward"
    )
    if differ:
        print("rewards that differ:", *differ, sep="\n  ")
    if failed:
        print(f"{len(failed)} episode(s) failed:", *failed, sep="\n  ", file=sys.stderr)
    return 1 if failed else 0


def print_pass_at_k(records: list[dict[str, Any]], samples: int, *, per_task: bool) -> None:
    """pass@1 and pass@k (k up to ``samples``, in powers of two) per env, and per task."""
    ks = sorted({1, samples, *(2**i for i in range(1, samples.bit_length()) if 2**i < samples)})
    rows = pass_at_k_table(records, ks, per_task=False)
    if per_task:
        rows += pass_at_k_table(records, ks, per_task=True)
    header = ("env id", "task", "problems", *(f"pass@{k}" for k in ks))
    table = [
        (
            row.env_id,
            row.task_id or "(all)",
            str(row.problems),
            *(_with_interval(row.pass_at.get(k), row.interval.get(k)) for k in ks),
        )
        for row in rows
    ]
    print()
    print_table(header, table)


def _with_interval(value: float | None, interval: tuple[float, float] | None) -> str:
    if value is None:
        return "-"
    return (
        f"{value:.3f}"
        if interval is None
        else f"{value:.3f} [{interval[0]:.2f}, {interval[1]:.2f}]"
    )


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
    print_table(("env id", "episodes", "mean reward", "solved", "mean turns"), rows)
