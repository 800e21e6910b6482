"""A turn of a shell episode, as the families that play one share it (shell tasks,
Harbor tasks): the agent's action is one command for a persistent bash, or ``submit``;
what comes back is the command's output and taskgym's notes on it."""

from __future__ import annotations

import re

from taskgym.core import Tool
from taskgym.sandboxes import ShellResult

__all__ = ["SUBMIT", "command_report", "shell_tools", "strip_fence"]

SUBMIT = "submit"
_FENCED = re.compile(r"\s*```[a-z]*\n(.*?)\n?```\s*", re.DOTALL)


def shell_tools(shell: str, checked: str) -> tuple[Tool, ...]:
    """The ``run_command`` and ``submit`` tools: ``shell`` says where commands run,
    ``checked`` what happens at submit."""
    return (
        Tool(
            "run_command",
            f"Run one command in {shell}; see its output.",
            {"command": "the shell command"},
            lambda args: args["command"],
        ),
        Tool("submit", f"End the episode: {checked}.", {}, lambda _: SUBMIT),
    )


def command_report(result: ShellResult, seconds: float) -> list[str]:
    """What the agent reads of a command: its output, then taskgym's notes."""
    parts = [result.output.rstrip("\n")] if result.output.strip() else []
    if result.timed_out:
        parts.append(f"[the command ran out of its {seconds:g} s and was interrupted]")
    if result.exit_code is not None:
        parts.append(f"[exit code {result.exit_code}]")
    return parts


def strip_fence(action: str) -> str:
    """A command given in a fenced block, unwrapped (models often answer that way)."""
    match = _FENCED.fullmatch(action)
    return match.group(1) if match else action
