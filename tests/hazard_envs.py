"""Envs for the executor tests, registered outside taskgym's namespace (so that the
registry-wide tests never meet them) and found by worker processes through gymnasium's
``module:env_id`` form: ``tests.hazard_envs:taskgym-tests/Hazard-v0``."""

import gymnasium as gym

gym.register(
    "taskgym-tests/Hazard-v0",
    entry_point="taskgym.envs.env:TaskEnv",
    kwargs={"task": "tests.helpers:HazardTask"},
)
HAZARD = "tests.hazard_envs:taskgym-tests/Hazard-v0"
