"""Many episodes at once: episodes as picklable specs (:mod:`.spec`) and the executors
that play them (:mod:`.executors`). Nothing here is imported by ``import taskgym``."""

from taskgym.parallel.executors import (
    Executor,
    InlineExecutor,
    ProcessExecutor,
    as_completed,
    executor_names,
    make_executor,
)
from taskgym.parallel.spec import EnvCache, EpisodeResult, EpisodeSpec, play_spec

__all__ = [
    "EnvCache",
    "EpisodeResult",
    "EpisodeSpec",
    "Executor",
    "InlineExecutor",
    "ProcessExecutor",
    "as_completed",
    "executor_names",
    "make_executor",
    "play_spec",
]
