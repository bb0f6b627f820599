"""Tiny random DINOv2 and CLIP checkpoints (built from configs, saved, loaded back through
``from_pretrained``) and small videos with known boxes, shared by the evaluation tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_eval_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """DINOv2 and Hugging Face CLIP folders, and piq's CLIP as an RN50.pt-like archive."""
    from dsr.evaluation.tiny import save_tiny_clip, save_tiny_dinov2, save_tiny_piq_clip

    root = tmp_path_factory.mktemp("eval-models")
    return {
        "dino": save_tiny_dinov2(root / "dino"),
        "clip": save_tiny_clip(root / "clip"),
        "piq_clip": save_tiny_piq_clip(root / "RN50.pt"),
    }
