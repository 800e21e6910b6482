"""The tiny model of the tests that run TRL's own trainer (none can be downloaded): the
examples' character tokenizer and one-layer GPT-2 config (examples/tiny_chat_model.py),
imported from there so that both stay one."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

from tiny_chat_model import (
    EOS,
    VOCAB,
    character_tokenizer,
    tiny_gpt2_config,
)

__all__ = ["EOS", "VOCAB", "character_tokenizer", "tiny_gpt2_config"]
