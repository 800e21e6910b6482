"""The harbor family: Harbor task directories (the format of Terminal-Bench 2 and
Harbor), each played as a shell episode in its own container and graded by its tests
after the last turn (see :mod:`taskgym.envs.harbor.tasks` and ``docs/harbor.md``)."""

from taskgym.registry import register_task
from taskgym.sandboxes import register_sandbox

register_sandbox(
    "harbor",
    "taskgym.envs.harbor.container:HarborContainer",
    probe="taskgym.envs.harbor.container:harbor_unavailable_reason",
)
register_task(
    "Harbor",
    "taskgym.envs.harbor.tasks:HarborTask",
    family="harbor",
    description="Harbor task directories (Terminal-Bench 2's format): one shell command a "
    "turn in the task's own container (its Dockerfile built offline), then its tests/test.sh "
    "grades the state left (tasks=DIR for your own; docs/harbor.md).",
)
