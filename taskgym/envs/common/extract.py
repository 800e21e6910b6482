"""Finding the part of an agent's answer that is graded."""

from __future__ import annotations

__all__ = ["extract_code"]


def extract_code(action: str) -> str:
    """The first fenced code block of ``action`` (```python or bare ```), else all of it."""
    start = action.find("```")
    if start == -1:
        return action
    newline = action.find("\n", start)
    if newline == -1:
        return action
    end = action.find("```", newline)
    return action[newline + 1 : end if end != -1 else len(action)]
