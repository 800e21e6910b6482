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
register_task(
    "CodeTestsRetry",
    "taskgym.envs.code.functions:FunctionTestsTask",
    family="code",
    attempts=3,
    # Solved: 1.0 less 0.1 for each extra attempt; not solved: 0 (no penalty below zero).
    reward={
        "gated": {
            "reward": {"weighted": [["binary", 1.0], [{"step_penalty": {"per_step": 0.1}}, 1.0]]},
            "gate": "binary",
        }
    },
    description="Function tasks with three attempts: feedback on the visible examples, "
    "0.1 less reward for each extra attempt of a solved task.",
)
register_task(
    "CodeTestsTools",
    "taskgym.envs.code.functions:FunctionTestsTask",
    family="code",
    runs=4,
    description="Function tasks in tool mode: up to four runs of the agent's own code in the "
    "sandbox (<run>code</run>) before it submits.",
)
register_task(
    "CodeProject",
    "taskgym.envs.code.project:ProjectTestsTask",
    family="code",
    description="Edit a small project over several turns (write, read, run, submit); its "
    "hidden pytest suite grades the files left (tasks=DIR).",
)
register_task(
    "HumanEval",
    "taskgym.envs.code.humaneval:HumanEvalTask",
    family="code",
    requires=("tasks",),
    description="HumanEval-format tasks (tasks=HumanEval.jsonl.gz); check() runs in a "
    "process apart from the candidate.",
)
register_task(
    "MBPP",
    "taskgym.envs.code.mbpp:MBPPTask",
    family="code",
    requires=("tasks",),
    description="MBPP tasks (tasks=ic_mbpp.json or MBPP JSONL); the asserts run apart from "
    "the candidate.",
)
