"""How a step's calls into task and reward code run: inline, or handed to a driver.

:meth:`TaskEnv.step_stages <taskgym.envs.env.TaskEnv.step_stages>` makes the quick calls
itself (:attr:`Execution.quick_stages <taskgym.core.Execution.quick_stages>`, the
built-in rewards) and yields each call that may block (a sandbox, a grader process, a
reward that asks a model) as a :class:`Stage`, to be sent back its result. A driver
decides where a stage runs: :func:`run_stages` runs each one here (``TaskEnv.step``);
:func:`run_stages_async` hands each one to a runner (the episode pool's threads) and
keeps the quick calls on its event loop, since a thread hop costs more than they do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, NamedTuple

__all__ = ["Stage", "StepResult", "StepStages", "run_stages", "run_stages_async"]

StepResult = tuple[str, float, bool, bool, dict[str, Any]]
"""gymnasium's five values of a step."""


class Stage(NamedTuple):
    """A call into task or reward code that may block, handed by a step to its driver:
    ``run`` it where blocking is harmless and send the result back."""

    name: str
    run: Callable[[], Any]


StepStages = Generator[Stage, Any, StepResult]


def run_stages(stages: StepStages) -> StepResult:
    """Drive ``stages`` to the end, running every stage here."""
    try:
        stage = next(stages)
        while True:
            stage = stages.send(stage.run())
    except StopIteration as stop:
        result: StepResult = stop.value
        return result
    finally:
        stages.close()


async def run_stages_async(
    stages: StepStages, run: Callable[[Callable[[], Any]], Awaitable[Any]]
) -> StepResult:
    """Drive ``stages`` to the end on an event loop, each stage awaited through ``run``
    (which runs it where blocking is harmless)."""
    try:
        stage = next(stages)
        while True:
            stage = stages.send(await run(stage.run))
    except StopIteration as stop:
        result: StepResult = stop.value
        return result
    finally:
        stages.close()
