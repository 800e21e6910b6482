"""reasoning-gym scoring: an answer graded in the confined worker, against score_answer in process.

What grading an answer in taskgym's confined worker costs, against reasoning-gym's own
``score_answer`` called in the trainer's process.

    pip install 'taskgym[reasoning-gym]'
    python -m bench.reasoning_gym_scoring [--rounds 5] [--answers 200]

The same answers (half references, half wrong) on items of three kinds of dataset, one
per kind of ``score_answer``: plain text (``basic_arithmetic``), ``eval`` of the answer
(``spiral_matrix``) and sympy's ``parse_expr`` (``countdown``). Candidates, each a round,
interleaved:

- reasoning-gym in process: ``dataset.score_answer(answer, entry)`` on items made once
  (the baseline: no confinement, no time limit, agent text evaluated in the trainer);
- taskgym's worker: :func:`taskgym.envs.reasoning_gym.datasets.score_answer` (a
  ``prepare`` and a ``score`` request over the worker's pipes, its audit hook on);
- a ReasoningGym-v0 episode: ``reset(options={"task_id": ...})`` and ``step(reply)``
  (the item from the worker, the form checks, then the two requests).

No goal is set: the table says what the walls cost an answer.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from typing import Any

from bench.ratios import interleaved_rounds, median_ratio, per_call_seconds

DATASETS = ("basic_arithmetic", "spiral_matrix", "countdown")


def _answers(count: int) -> list[tuple[str, int, str]]:
    """``count`` (dataset, seed, answer) triples: references and wrong answers."""
    from taskgym.envs.reasoning_gym import datasets

    triples = []
    for i in range(count):
        name, seed = DATASETS[i % len(DATASETS)], i // 2
        reference = datasets.make_item(name, None, {}, seed).answer
        assert reference is not None
        triples.append((name, seed, reference if i % 2 == 0 else "0"))
    return triples


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--answers", type=int, default=200)
    args = parser.parse_args(argv)
    try:
        import reasoning_gym
    except ImportError:
        print("needs reasoning-gym: pip install 'taskgym[reasoning-gym]'", file=sys.stderr)
        return 2
    import gymnasium as gym

    import taskgym  # noqa: F401 - registers the envs
    from taskgym.envs.reasoning_gym import datasets

    triples = _answers(args.answers)
    made: dict[tuple[str, int], tuple[Any, Any]] = {}
    for name, seed, _ in triples:
        dataset = reasoning_gym.create_dataset(name, seed=seed, size=1)
        made[(name, seed)] = (dataset, dataset[0])
    env = gym.make("taskgym/ReasoningGym-v0")
    answers = iter(range(10**9))

    def in_process() -> None:
        name, seed, answer = triples[next(answers) % len(triples)]
        dataset, entry = made[(name, seed)]
        dataset.score_answer(answer, entry)

    def worker() -> None:
        name, seed, answer = triples[next(answers) % len(triples)]
        datasets.score_answer(name, None, {}, seed, answer, seconds=10.0)

    def episode() -> None:
        name, seed, answer = triples[next(answers) % len(triples)]
        env.reset(options={"task_id": f"rg/{name}/{seed}"})
        env.step(f"<answer>{answer}</answer>")

    calls = len(triples)
    for warm in (worker, episode):  # every item made once in the worker, before the clock
        per_call_seconds(warm, calls)
    samples = interleaved_rounds(
        args.rounds,
        {
            "reasoning-gym in process": lambda: per_call_seconds(in_process, calls),
            "taskgym's worker": lambda: per_call_seconds(worker, calls),
            "ReasoningGym-v0 episode": lambda: per_call_seconds(episode, calls),
        },
    )
    env.close()
    base = samples["reasoning-gym in process"]
    print(f"{calls} answers a round ({', '.join(DATASETS)}), median of {args.rounds} rounds")
    print(f"{'candidate':<28} {'us/answer':>10} {'x in process':>13}")
    for name, values in samples.items():
        ratio = median_ratio(values, base)
        print(f"{name:<28} {statistics.median(values) * 1e6:>10.1f} {ratio:>13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
