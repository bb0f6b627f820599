"""The tiny CogVideoX, LTX-Video and HunyuanVideo 1.5 pipelines load through diffusers'
``from_pretrained`` as the published checkpoints do, and sample videos of the requested shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

#: family → (pipeline class, a valid (frames, height, width) for the real model's VAE)
FAMILIES = {
    "cogvideox": ("CogVideoXPipeline", (9, 32, 32)),
    "ltx": ("LTXPipeline", (9, 32, 32)),
    "hunyuanvideo15": ("HunyuanVideo15Pipeline", (5, 16, 16)),
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_tiny_folder_names_the_real_pipeline_class(
    family: str, tiny_family_model: Callable[[str], Path]
) -> None:
    index = json.loads((tiny_family_model(family) / "model_index.json").read_text())
    assert index["_class_name"] == FAMILIES[family][0]
    assert {"transformer", "vae", "scheduler", "text_encoder", "tokenizer"} <= set(index)


@pytest.mark.slow
@pytest.mark.parametrize("family", list(FAMILIES))
def test_tiny_pipeline_loads_and_samples_the_requested_shape(
    family: str, tiny_family_model: Callable[[str], Path]
) -> None:
    import diffusers
    import torch

    name, (frames, height, width) = FAMILIES[family]
    pipe = getattr(diffusers, name).from_pretrained(tiny_family_model(family))
    pipe.set_progress_bar_config(disable=True)
    out = pipe(
        prompt=["a cat on the left of a box"],
        negative_prompt=["static"],
        num_frames=frames,
        height=height,
        width=width,
        num_inference_steps=2,
        generator=[torch.Generator().manual_seed(0)],
        output_type="np",
    ).frames
    assert out.shape == (1, frames, height, width, 3)
    assert out.min() >= 0.0 and out.max() <= 1.0
