"""Many episodes at once: episodes as picklable specs (:mod:`.spec`), the executors
that play them whole (a module each, chosen by name in :mod:`.executors`), and a pool
of episodes stepped one action at a time as a model answers (:mod:`.episodes`).
Nothing here is imported by ``import taskgym``."""

from taskgym.parallel.base import Executor, as_completed
from taskgym.parallel.episodes import AsyncEpisodePool, Episode, EpisodePool, SyncEpisode
from taskgym.parallel.executors import (
    EXECUTORS,
    executor_names,
    make_executor,
    register_executor,
)
from taskgym.parallel.inline import InlineExecutor
from taskgym.parallel.process import ProcessExecutor
from taskgym.parallel.spec import EnvCache, EpisodeResult, EpisodeSpec, play_spec
from taskgym.parallel.vector import make_vec

__all__ = [
    "EXECUTORS",
    "AsyncEpisodePool",
    "EnvCache",
    "Episode",
    "EpisodePool",
    "EpisodeResult",
    "EpisodeSpec",
    "Executor",
    "InlineExecutor",
    "ProcessExecutor",
    "SyncEpisode",
    "as_completed",
    "executor_names",
    "make_executor",
    "make_vec",
    "play_spec",
    "register_executor",
]
