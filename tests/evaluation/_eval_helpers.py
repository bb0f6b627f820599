"""Plain helpers of the evaluation tests (fixtures stay in conftest.py)."""

from __future__ import annotations

import numpy as np


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
