"""Reading JSON Lines files (task files, run files, HumanEval's ``.jsonl.gz``) with
errors that name the file and the line at fault, and say what the file should be."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from taskgym.errors import ConfigError

__all__ = ["read_json_objects"]


def read_json_objects(
    path: str | Path, *, what: str, item: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, object)`` for each non-blank line of ``path``, ``where`` being
    ``file:line``; a ``.gz`` file is read through gzip.

    ``what`` names the file in errors ("task file", "run file") and ``item`` one line
    of it ("task", "run record"). A line that is not a JSON object is a ConfigError;
    an empty file yields nothing (the caller says what it expected).
    """
    source = Path(path)
    try:
        if source.suffix == ".gz":
            with gzip.open(source, "rt", encoding="utf-8") as compressed:
                text = compressed.read()
        else:
            text = source.read_text(encoding="utf-8")
        lines = text.splitlines()
    except (OSError, EOFError, UnicodeDecodeError) as e:  # gzip's errors are OSErrors
        raise ConfigError(f"cannot read the {what} {source}: {e}") from e
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{where}: not JSON ({e}); is this a {what}?") from e
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: a {item} is a JSON object, not a {type(raw).__name__}")
        yield where, raw
