"""A tiny model for the tests that run TRL's own trainer (none can be downloaded): a
character tokenizer over printable ASCII and newline, and a one-layer GPT-2 config."""

from __future__ import annotations

from typing import Any

CHARACTERS = [chr(i) for i in range(32, 127)] + ["\n"]
VOCAB = {"[UNK]": 0, "[PAD]": 1, "[EOS]": 2, **{c: i + 3 for i, c in enumerate(CHARACTERS)}}
EOS = VOCAB["[EOS]"]


def character_tokenizer(chat_template: str | None = None) -> Any:
    """One token a character (decoded back without spaces), with ``chat_template``."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    characters = Tokenizer(models.WordLevel(vocab=VOCAB, unk_token="[UNK]"))
    characters.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    characters.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=characters, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]"
    )
    tokenizer.chat_template = chat_template
    return tokenizer


def tiny_gpt2_config(context: int) -> Any:
    """A 32-wide, one-layer GPT-2 over :data:`VOCAB`, ``context`` tokens long (the
    torch seed is set, so its random weights are the same each run)."""
    import torch
    from transformers import GPT2Config

    torch.manual_seed(0)
    return GPT2Config(
        vocab_size=len(VOCAB), n_positions=context, n_embd=32, n_layer=1, n_head=2,
        bos_token_id=EOS, eos_token_id=EOS, pad_token_id=VOCAB["[PAD]"],
    )  # fmt: skip
