"""A tiny random Wan2.1 text-to-video pipeline, for tests, the demo and ``dsr train --tiny``.

:func:`save_tiny_wan` builds every component of a diffusers ``WanPipeline`` from small configs
(UMT5 text encoder with a word-level tokenizer, ``WanTransformer3DModel``, ``AutoencoderKLWan``,
the flow-matching scheduler) and writes them with ``save_pretrained``; the generator and the
trainer then load the folder through their normal ``from_pretrained`` path, exactly as they load
``Wan-AI/Wan2.1-T2V-1.3B-Diffusers``. Outputs are random; the shapes and the code path are real:
the VAE compresses 4× in time and 8× in space like Wan's, the transformer patches 1×2×2, so frame
sizes must be multiples of 16 and frame counts 4k+1, as for the real model.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["TINY_WAN_WORDS", "save_tiny_wan"]

#: Words the tiny tokenizer knows; any other word maps to ``<unk>`` (the model is random anyway).
TINY_WAN_WORDS = (
    "a",
    "an",
    "the",
    "in",
    "on",
    "of",
    "to",
    "then",
    "from",
    "with",
    "and",
    "is",
    "left",
    "right",
    "top",
    "rabbit",
    "hamster",
    "squirrel",
    "cat",
    "dog",
    "fox",
    "duck",
    "bird",
    "stump",
    "rock",
    "bench",
    "chair",
    "crate",
    "sofa",
    "basket",
    "stone",
    "pot",
    "box",
    "stool",
    "cushion",
    "walks",
    "hops",
    "runs",
    "trots",
    "waddles",
    "flutters",
    "scurries",
    "prowls",
    "park",
    "room",
    "garden",
    "bright",
    "tones",
    "overexposed",
    "static",
    "blurred",
    "details",
    "under",
    "front",
    "behind",
)


def word_tokenizer(specials: tuple[str, ...] = ()) -> Any:
    """A lower-casing word-level tokenizer over :data:`TINY_WAN_WORDS` with T5's ``<pad>``,
    ``</s>`` and ``<unk>`` (ids 0-2), then ``specials`` (kept whole, e.g. chat markers)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ("<pad>", "</s>", "<unk>", *specials, *TINY_WAN_WORDS)
    tok = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    extra = {"additional_special_tokens": list(specials)} if specials else {}
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", **extra
    )


def save_tiny_wan(
    path: str | Path, *, seed: int = 0, num_layers: int = 2, text_dim: int = 16
) -> Path:
    """Write a tiny random ``WanPipeline`` (about 60 k parameters) to ``path``; returns the path.

    ``num_layers`` transformer blocks, each with self-attention (``attn1``) and cross-attention
    (``attn2``) as in the real model, so LoRA targeting can be checked block by block.
    """
    import torch
    from diffusers import (
        AutoencoderKLWan,
        UniPCMultistepScheduler,
        WanPipeline,
        WanTransformer3DModel,
    )
    from transformers import UMT5Config, UMT5EncoderModel

    if not re.fullmatch(r"[1-9]\d*", str(num_layers)):
        raise ValueError(f"num_layers={num_layers}: need a positive integer")
    torch.manual_seed(seed)
    tokenizer = word_tokenizer()
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(tokenizer),
            d_model=text_dim,
            d_kv=4,
            d_ff=32,
            num_layers=1,
            num_heads=2,
            relative_attention_num_buckets=8,
        )
    )
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=8,
        in_channels=16,
        out_channels=16,
        text_dim=text_dim,
        freq_dim=32,
        ffn_dim=32,
        num_layers=num_layers,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0
    )
    pipe = WanPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        transformer=transformer,
        vae=vae,
        scheduler=scheduler,
    )
    out = Path(path)
    pipe.save_pretrained(out)
    return out
