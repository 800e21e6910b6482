"""The harbor family: Harbor task directories (the format of Terminal-Bench 2 and
Harbor), each played as a shell episode in its own container and graded by its tests
after the last turn (see :mod:`taskgym.envs.harbor.tasks` and ``docs/harbor.md``)."""

from taskgym.registry import register_task

# The family's sandbox backend ("harbor") is registered by tasks.py, which the env
# imports when it is made: registering here would load the sandbox layer at
# ``import taskgym`` (tests/test_public_api.py).
register_task(
    "Harbor",
    "taskgym.envs.harbor.tasks:HarborTask",
    family="harbor",
    description="Harbor task directories (Terminal-Bench 2's format): one shell command a "
    "turn in the task's own container (its Dockerfile built offline), then its tests/test.sh "
    "grades the state left (tasks=DIR for your own; docs/harbor.md).",
)
