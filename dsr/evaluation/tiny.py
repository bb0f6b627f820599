"""Tiny random checkpoints of the evaluation models (DINOv2 for ID consistency, CLIP for CLIP-IQA),
for tests, demos and benchmarks.

``save_tiny_piq_clip`` writes piq's CLIP class (ResNet image tower) with random weights as a
TorchScript archive, the file format of piq's and OpenAI's ``RN50.pt``, for
``--clip-iqa-weights`` (needs piq, the ``paper-metrics`` extra).

Each ``save_tiny_*`` builds the model from a small config with the processor it needs and writes
both with ``save_pretrained``; :mod:`dsr.evaluation.models` then loads the folder through the same
``from_pretrained`` path as ``facebook/dinov2-base`` or ``openai/clip-vit-base-patch16``. Outputs
are random; shapes and code paths are real. :data:`REAL_SIZES` gives the configs of the real
checkpoints, for benchmarks with random weights at full size.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

__all__ = ["REAL_SIZES", "save_tiny_clip", "save_tiny_dinov2", "save_tiny_piq_clip"]

#: Config overrides of the real checkpoints (ViT-B/14 DINOv2; CLIP ViT-B/16), for random
#: full-size models.
REAL_SIZES: dict[str, dict[str, Any]] = {
    "dinov2": {
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "image_size": 518,
    },
    "clip_vision": {
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "image_size": 224,
        "patch_size": 16,
    },
    "clip_text": {
        "hidden_size": 512,
        "intermediate_size": 2048,
        "num_hidden_layers": 12,
        "num_attention_heads": 8,
    },
    "clip": {"projection_dim": 512, "image_size": 224},
    # piq.feature_extractors.clip.CLIP arguments of OpenAI's RN50 (what build_model reads off it)
    "piq_clip": {
        "embed_dim": 1024,
        "image_resolution": 224,
        "vision_layers": (3, 4, 6, 3),
        "vision_width": 64,
        "transformer_width": 512,
        "transformer_heads": 8,
        "transformer_layers": 12,
    },
}
_TINY_PIQ_CLIP: dict[str, Any] = {
    "embed_dim": 32,
    "image_resolution": 64,
    "vision_layers": (1, 1, 1, 1),
    "vision_width": 8,
    "transformer_width": 64,
    "transformer_heads": 1,
    "transformer_layers": 1,
}


def save_tiny_dinov2(path: str | Path, *, seed: int = 0, full_size: bool = False) -> Path:
    """A random DINOv2 (patch 14; ~50 k parameters, or ViT-B/14 with ``full_size``) with its image
    processor, saved at ``path``."""
    import torch
    from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

    torch.manual_seed(seed)
    sizes = (
        REAL_SIZES["dinov2"]
        if full_size
        else {
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "image_size": 56,
        }
    )
    model = Dinov2Model(Dinov2Config(patch_size=14, **sizes)).eval()
    return _save(model, BitImageProcessor(), path)


def _clip_tokenizer() -> Any:
    """A character-level CLIP BPE tokenizer (every byte is a token, no merges): enough for the
    anchor prompts, with CLIP's special tokens."""
    from transformers import CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    tokens = [*chars, *(c + "</w>" for c in chars), "<|startoftext|>", "<|endoftext|>"]
    return CLIPTokenizer(vocab={t: i for i, t in enumerate(tokens)}, merges=[])


def save_tiny_clip(path: str | Path, *, seed: int = 0, full_size: bool = False) -> Path:
    """A random CLIP (tiny, or ViT-B/16 sizes with ``full_size``) with its ``CLIPProcessor``, saved
    at ``path``."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    torch.manual_seed(seed)
    tokenizer = _clip_tokenizer()
    extra: dict[str, Any]
    if full_size:
        vision, text, extra = (
            REAL_SIZES["clip_vision"],
            REAL_SIZES["clip_text"],
            {"projection_dim": 512},
        )
    else:
        vision = {
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        }
        text = {
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
        }
        extra = {"projection_dim": 16}
    text = {
        **text,
        "vocab_size": len(tokenizer),
        "max_position_embeddings": 77,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, **extra)).eval()
    if not full_size:
        _unsaturate(model)
    side = int(vision["image_size"])
    images = CLIPImageProcessor(
        size={"shortest_edge": side}, crop_size={"height": side, "width": side}
    )
    return _save(model, CLIPProcessor(image_processor=images, tokenizer=tokenizer), path)


def _unsaturate(model: Any) -> None:
    """Bring the random text embeddings close together (a shared offset plus 1 % of the text), so
    that 100 × their cosine differences to an image stay small and CLIP-IQA scores spread around
    0.5 instead of saturating at 0 or 1."""
    import torch

    norm = model.text_model.final_layer_norm
    with torch.no_grad():
        norm.weight.mul_(0.01)
        norm.bias.copy_(torch.randn_like(norm.bias))


def save_tiny_piq_clip(path: str | Path, *, seed: int = 0, full_size: bool = False) -> Path:
    """A random piq CLIP (tiny, or RN50 sizes with ``full_size``; CLIP's vocabulary and 77-token
    context) saved as a TorchScript archive at ``path`` (a file); returns ``path``."""
    import torch
    from piq.feature_extractors import clip

    torch.manual_seed(seed)
    sizes = REAL_SIZES["piq_clip"] if full_size else _TINY_PIQ_CLIP
    model = clip.CLIP(vision_patch_size=None, context_length=77, vocab_size=49408, **sizes).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):  # eval-mode statistics that matter
                module.weight.normal_(1.0, 0.2)
                module.get_buffer("running_mean").normal_(0.0, 0.1)
                module.get_buffer("running_var").uniform_(0.5, 1.5)
        model.logit_scale.fill_(math.log(100.0))  # as trained CLIPs end up (piq scales by it)
        if not full_size:  # anchors close together: scores spread around 0.5, see _unsaturate
            model.ln_final.weight.mul_(0.01)
            model.ln_final.bias.copy_(torch.randn_like(model.ln_final.bias))
    tokens = torch.zeros(1, 77, dtype=torch.long)
    archive = torch.jit.trace_module(model, {"encode_text": tokens})  # keeps every weight
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    archive.save(str(out))
    return out


def _save(model: Any, processor: Any, path: str | Path) -> Path:
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out
