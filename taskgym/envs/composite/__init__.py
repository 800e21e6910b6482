"""Envs made of other envs: a mixture that draws each episode from one of several by
weight, and a curriculum that moves a task's difficulty option with the recent solve
rate. Both are tasks played by ``TaskEnv``, so they run wherever an env runs (executors,
the episode pool, ``grade_many``, trainers, a server), and each episode is paid by the
reward of the env its problem comes from (the ``source`` reward, their default). See
``docs/mixtures.md``."""

from taskgym.registry import register_task

register_task(
    "Mixture",
    "taskgym.envs.composite.mixture:MixtureTask",
    family="composite",
    reward="source",
    description="Each episode a problem of one of several envs (envs={id: weight}, "
    "options={id: {...}}), drawn by weight from the reset seed; info['source'] names it.",
)
register_task(
    "Curriculum",
    "taskgym.envs.composite.curriculum:CurriculumTask",
    family="composite",
    reward="source",
    description="An env's task whose difficulty option (option=, values=) moves up or down "
    "with the recent solve rate by a rule (JSON thresholds or 'module:attr'); "
    "info['level'] says where it is.",
)
