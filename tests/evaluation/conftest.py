"""Tiny random DINOv2 and CLIP checkpoints (built from configs, saved, loaded back through
``from_pretrained``) and small videos with known boxes, shared by the evaluation tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


def moving_video(
    n_frames: int = 12, height: int = 48, width: int = 64, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noise frames with a textured 'animal' patch moving left to right and a fixed 'object' box;
    returns (frames, animal_boxes, object_boxes)."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, size=(n_frames, height, width, 3), dtype=np.uint8)
    patch = rng.integers(0, 256, size=(14, 18, 3), dtype=np.uint8)
    animal, obj = [], []
    for t in range(n_frames):
        x = 2 + (t * (width - 24)) // max(1, n_frames - 1)
        frames[t, 10:24, x : x + 18] = patch
        animal.append([x + 0.3, 10.0, x + 17.6, 23.4])  # fractional, as boxes from masks may be
        obj.append([20.0, 30.0, 40.0, 46.0])
    return frames, np.array(animal), np.array(obj)
