"""A text space for prompts, model outputs and terminal transcripts.

gymnasium's ``Text`` space only contains strings drawn from a fixed charset (by default
letters and digits), so it rejects ordinary prompts such as ``"2+2?"`` or ``"x ≤ 3"``.
:class:`UnicodeText` contains every ``str`` within its length bounds.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
from gymnasium.spaces import Space

__all__ = ["UnicodeText"]

# What sample() draws from: printable ASCII, whitespace and some non-ASCII letters and
# symbols, so that random actions exercise parsers with the characters models emit.
_SAMPLE_ALPHABET = tuple(string.printable + "äéßøπλ≤≥≠∑√∞→•“”—…中文😀\u200b")


class UnicodeText(Space[str]):
    """Every Python ``str`` of ``min_length`` to ``max_length`` characters.

    Examples:
        >>> space = UnicodeText(max_length=100)
        >>> space.contains("x ≤ 3, so the answer is \\\\boxed{3}")
        True
        >>> space.contains(b"bytes")
        False
    """

    def __init__(
        self,
        max_length: int,
        *,
        min_length: int = 0,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        if not 0 <= min_length <= max_length:
            raise ValueError(
                f"UnicodeText needs 0 <= min_length <= max_length, got {min_length}, {max_length}"
            )
        self.min_length = int(min_length)
        self.max_length = int(max_length)
        super().__init__(shape=None, dtype=None, seed=seed)

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """A random string of at most 64 characters (or ``max_length`` if smaller)."""
        if mask is not None or probability is not None:
            raise ValueError("UnicodeText.sample does not support masks or probabilities")
        upper = min(self.max_length, max(self.min_length, 64))
        length = int(self.np_random.integers(self.min_length, upper + 1))
        picks = self.np_random.integers(0, len(_SAMPLE_ALPHABET), size=length)
        return "".join(_SAMPLE_ALPHABET[i] for i in picks)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"UnicodeText(min_length={self.min_length}, max_length={self.max_length})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, UnicodeText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )

    def __hash__(self) -> int:
        return hash((UnicodeText, self.min_length, self.max_length))

    def to_jsonable(self, sample_n: Any) -> list[str]:
        return list(sample_n)

    def from_jsonable(self, sample_n: list[str]) -> list[str]:
        return list(sample_n)
