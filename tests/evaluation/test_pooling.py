"""The pooled-token shortcuts give the full forwards' outputs (the models' own code is the
reference: the full forward computes every token, the shortcut only the pooled one)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dsr.evaluation.pooling import dinov2_cls, piq_clip_image_features


def test_dinov2_cls_is_the_pooler_output(tiny_eval_models: dict[str, Path]) -> None:
    from transformers import AutoModel

    model = AutoModel.from_pretrained(tiny_eval_models["dino"]).eval()
    pixels = torch.randn(3, 3, 70, 56, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        full = model(pixel_values=pixels).pooler_output
        mine = dinov2_cls(model, pixels)
    assert mine.shape == full.shape
    torch.testing.assert_close(mine, full, rtol=0, atol=1e-5)


def test_a_model_in_training_mode_runs_its_full_forward(tiny_eval_models: dict[str, Path]) -> None:
    from transformers import AutoModel

    model = AutoModel.from_pretrained(tiny_eval_models["dino"]).train()
    calls = []
    model.register_forward_hook(lambda *_: calls.append(1))
    with torch.inference_mode():
        dinov2_cls(model, torch.randn(1, 3, 56, 56))
    assert calls == [1]


def test_piq_clip_pool_is_encode_image(tiny_eval_models: dict[str, Path]) -> None:
    pytest.importorskip("piq")
    from dsr.evaluation.clip_iqa import load_piq_clip

    model = load_piq_clip(str(tiny_eval_models["piq_clip"]))
    images = torch.rand(2, 3, 48, 80, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        full = model.encode_image(images, pos_embedding=False)
        mine = piq_clip_image_features(model, images)
        model.visual.to(memory_format=torch.channels_last)
        last = piq_clip_image_features(model, images.contiguous(memory_format=torch.channels_last))
    assert mine.shape == full.shape
    torch.testing.assert_close(mine, full, rtol=0, atol=1e-5)
    torch.testing.assert_close(last, full, rtol=0, atol=1e-5)
