"""The shell family: multi-turn tasks in a persistent shell inside a sandbox, graded on
the state the agent leaves (see :mod:`taskgym.envs.shell.tasks`)."""

from taskgym.registry import register_task

register_task(
    "Shell",
    "taskgym.envs.shell.tasks:ShellTask",
    family="shell",
    with_image=False,
    description="Shell automation: one command a turn in a persistent shell, then submit; "
    "checks of the files and state left behind grade it.",
)
register_task(
    "ShellTools",
    "taskgym.envs.shell.tasks:ShellTask",
    family="shell",
    with_image=True,
    # Each problem runs in a docker sandbox of its image: never in what auto would pick.
    sandbox="docker",
    description="Shell tasks that need tools of their own image (git, sqlite3, zip, jq): "
    "each runs in a docker sandbox of it (taskgym images build).",
)
register_task(
    "ShellTasks",
    "taskgym.envs.shell.tasks:ShellTask",
    family="shell",
    requires=("tasks",),
    description="Shell tasks from a directory of your own (tasks=DIR, see docs/shell-tasks.md).",
)
register_task(
    "ShellReference",
    "taskgym.envs.shell.tasks:ShellTask",
    family="shell",
    with_image=False,
    reference_run=True,
    reward="reference_match",
    description="The Shell-v0 tasks rewarded by how close the final files and the last "
    "output come to a run of the reference in a twin sandbox (InterCode-style).",
)
