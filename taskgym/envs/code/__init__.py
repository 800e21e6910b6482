"""The code family: programs graded by hidden unit tests, the verdict decided on the
trusted side of a process boundary (see :mod:`taskgym.envs.code.grader`)."""

from taskgym.registry import register_task

register_task(
    "CodeTests",
    "taskgym.envs.code.functions:FunctionTestsTask",
    family="code",
    description="Write a Python function; hidden input/output tests grade it (tasks=PATH).",
)
register_task(
    "CodeStdio",
    "taskgym.envs.code.stdio:StdioTestsTask",
    family="code",
    description="Write a program that reads stdin and prints the answer; hidden cases grade it.",
)
