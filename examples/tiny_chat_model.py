"""A tiny chat model made on the spot, for the training examples to run as shipped on a
CPU with nothing downloaded: a one-layer GPT-2 with random weights over a character
tokenizer (printable ASCII and newline), with the Qwen 2.5 chat template TRL ships (it
renders tools, and TRL knows how to read its tool calls). It learns nothing useful in a
few steps; pass a real model's name to the examples to train one.
"""

from __future__ import annotations

from typing import Any

CHARACTERS = [chr(i) for i in range(32, 127)] + ["\n"]
VOCAB = {"[UNK]": 0, "[PAD]": 1, "[EOS]": 2, **{c: i + 3 for i, c in enumerate(CHARACTERS)}}
EOS = VOCAB["[EOS]"]


def character_tokenizer(chat_template: str | None = None) -> Any:
    """One token a character of :data:`VOCAB` (decoded back without spaces)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers  # noqa: PLC0415
    from transformers import PreTrainedTokenizerFast  # noqa: PLC0415

    characters = Tokenizer(models.WordLevel(vocab=VOCAB, unk_token="[UNK]"))
    characters.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    characters.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=characters, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]"
    )
    tokenizer.chat_template = chat_template
    return tokenizer


def tiny_gpt2_config(context: int, seed: int = 0) -> Any:
    """A 32-wide, one-layer GPT-2 over :data:`VOCAB`, ``context`` tokens long; the torch
    seed is set, so the weights made from it are the same each run."""
    import torch  # noqa: PLC0415 - the examples' optional libraries
    from transformers import GPT2Config  # noqa: PLC0415

    torch.manual_seed(seed)
    return GPT2Config(
        vocab_size=len(VOCAB),
        n_positions=context,
        n_embd=32,
        n_layer=1,
        n_head=2,
        bos_token_id=EOS,
        eos_token_id=EOS,
        pad_token_id=VOCAB["[PAD]"],
    )


def tiny_model_and_tokenizer(seed: int = 0, context: int = 4096) -> tuple[Any, Any]:
    """``(model, tokenizer)``: a random GPT-2 (32 wide, one layer) and its tokenizer."""
    from transformers import GPT2LMHeadModel  # noqa: PLC0415
    from trl.chat_template_utils import qwen2_5_chat_template  # noqa: PLC0415

    tokenizer = character_tokenizer(qwen2_5_chat_template)
    return GPT2LMHeadModel(tiny_gpt2_config(context, seed)), tokenizer


def load(name: str, seed: int = 0) -> tuple[Any, Any]:
    """``tiny`` -> :func:`tiny_model_and_tokenizer`; any other name -> that model and
    its tokenizer from the Hugging Face cache or hub."""
    if name == "tiny":
        return tiny_model_and_tokenizer(seed)
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415

    return AutoModelForCausalLM.from_pretrained(name), AutoTokenizer.from_pretrained(name)


def sample_reply(
    model: Any,
    tokenizer: Any,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None = None,
    max_new_tokens: int = 48,
) -> str:
    """One sampled reply to ``messages`` (with ``tools`` rendered by the chat template),
    as text: tool calls the model writes stay in it as ``<tool_call>`` blocks."""
    prompt = tokenizer.apply_chat_template(
        messages, tools=tools or None, add_generation_prompt=True, return_tensors="pt",
        return_dict=True,
    )  # fmt: skip
    out = model.generate(
        **prompt,
        max_new_tokens=max_new_tokens,
        do_sample=True,
        pad_token_id=tokenizer.pad_token_id,
    )
    text: str = tokenizer.decode(out[0, prompt["input_ids"].shape[1] :], skip_special_tokens=True)
    return text
