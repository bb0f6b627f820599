"""What the model metrics take from a video, and the ID-consistency formula (pure numpy).

ID consistency (SPEC §7, as the authors compute it): the animal's box crop of every usable frame
(both boxes present, finite, positive width and height; SPEC §4) is embedded; with the
L2-normalized features f_1 … f_n in frame order the video's value is

    mean over k = 2..n of (f_k · f_1 + f_k · f_(k−1)) / 2

(None for fewer than two crops). A crop is what ``PIL.Image.crop`` takes for the box: pixels
``round(x1) ≤ x < round(x2)``, ``round(y1) ≤ y < round(y2)``, clamped to the frame, at least one
pixel wide and high.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dsr.scoring.geometry import BoxesLike, as_boxes, usable_mask

__all__ = ["animal_crops", "crop_window", "id_consistency", "usable_frames"]


def usable_frames(animal_boxes: BoxesLike, object_boxes: BoxesLike) -> np.ndarray:
    """Indices of the frames whose two boxes are usable for the score (SPEC §4)."""
    animal, obj = as_boxes(animal_boxes), as_boxes(object_boxes)
    if len(animal) != len(obj):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(usable_mask(animal, obj)) if len(animal) else np.zeros(0, dtype=np.int64)


def crop_window(box: Sequence[float], height: int, width: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) pixel slice bounds of ``box`` in a ``height`` ×
    ``width`` frame."""
    x1, y1, x2, y2 = (int(np.round(float(c))) for c in box)
    left, top = min(max(x1, 0), width - 1), min(max(y1, 0), height - 1)
    right, bottom = max(min(x2, width), left + 1), max(min(y2, height), top + 1)
    return top, bottom, left, right


def animal_crops(
    frames: np.ndarray, animal_boxes: BoxesLike, object_boxes: BoxesLike
) -> list[np.ndarray]:
    """The animal's crop (H', W', 3) of every usable frame that the video has, in frame order."""
    animal = as_boxes(animal_boxes)
    out = []
    for t in usable_frames(animal_boxes, object_boxes):
        if t >= len(frames):
            break
        top, bottom, left, right = crop_window(animal[t], frames.shape[1], frames.shape[2])
        out.append(frames[t, top:bottom, left:right])
    return out


def id_consistency(features: np.ndarray) -> float | None:
    """The video's ID consistency from its L2-normalized crop features (n, d) in frame order."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        return None
    to_first = f[1:] @ f[0]
    to_previous = np.einsum("kd,kd->k", f[1:], f[:-1])
    return float(np.mean((to_first + to_previous) / 2.0))
