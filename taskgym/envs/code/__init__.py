"""The code family: programs graded by hidden unit tests, the verdict decided on the
trusted side of a process boundary (see :mod:`taskgym.envs.code.grader`)."""
