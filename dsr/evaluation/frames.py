"""What the model metrics take from a video, and the ID-consistency formula (pure numpy).

ID consistency (docs/method.md §7): the animal's box crops of a video are embedded; with the
L2-normalized features f_1 … f_n in crop order the video's value is

    mean over k = 2..n of (f_k · f_1 + f_k · f_(k−1)) / 2

(None for fewer than two crops). Which crops, in which order, is the variant:

* ``authors`` (the authors' ``calc_metric.py``): frames in the tracker's order — the key frame,
  key+1 … last, then key−1 … 0, so f_1 is the key frame — up to the first frame whose boxes lack
  extent: an absent box (their empty mask, box [0, 0, 0, 0]), zero width of either box, zero mean
  height; the rest of the video is dropped, as their ``break``. A video with fewer than 20 such
  crops has no value. (A zero-height animal box beside an object box with height stops their
  script with an error; here it ends the loop too.) Their data holds only tracked frames, each
  labelled with the key frame's two labels, so every frame's labels match.
* ``time-order`` (dsr before the authors' order was the default): every usable frame (both boxes
  present, finite, positive width and height; §4) in time order, two crops suffice.

A crop is the box's pixel slice: ``round(x1) ≤ x < round(x2)``, ``round(y1) ≤ y < round(y2)``,
clamped to the frame, at least one pixel wide and high (for boxes from masks, integers with
x2 = the last column, exactly the authors' ``frame[:, y1:y2, x1:x2]``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dsr.scoring.geometry import BoxesLike, as_boxes, usable_mask

__all__ = [
    "AUTHORS_MIN_CROPS",
    "animal_crops",
    "authors_crop_frames",
    "crop_window",
    "id_consistency",
    "tracker_order",
    "usable_frames",
]

#: Crops a video needs for the authors' ID consistency (``len(...) >= 20`` in ``calc_metric.py``).
AUTHORS_MIN_CROPS = 20


def usable_frames(animal_boxes: BoxesLike, object_boxes: BoxesLike) -> np.ndarray:
    """Indices of the frames whose two boxes are usable for the score (docs/method.md §4)."""
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


def tracker_order(n_frames: int, key_frame: int) -> list[int]:
    """Frame indices as the tracker lists them: key, key+1 … last, then key−1 … 0 (§3)."""
    if not 0 <= key_frame < n_frames:
        return []
    return [*range(key_frame, n_frames), *range(key_frame - 1, -1, -1)]


def _has_extent(animal: np.ndarray, obj: np.ndarray) -> bool:
    """The authors' loop goes on: both boxes finite, both widths and the animal's height
    positive (an empty mask is their box [0, 0, 0, 0], our NaN box)."""
    if not (np.isfinite(animal).all() and np.isfinite(obj).all()):
        return False
    wa, ha = animal[2] - animal[0], animal[3] - animal[1]
    wo, ho = obj[2] - obj[0], obj[3] - obj[1]
    return bool(wa > 0 and wo > 0 and ha > 0 and ho >= 0)


def authors_crop_frames(
    animal_boxes: BoxesLike, object_boxes: BoxesLike, key_frame: int | None
) -> list[int]:
    """The frames whose animal crops the authors embed, in their order (the module docstring);
    empty without a key frame. The 20-crop rule is the caller's."""
    animal, obj = as_boxes(animal_boxes), as_boxes(object_boxes)
    if key_frame is None or len(animal) != len(obj):
        return []
    out = []
    for t in tracker_order(len(animal), int(key_frame)):
        if not _has_extent(animal[t], obj[t]):
            break
        out.append(t)
    return out


def animal_crops(
    frames: np.ndarray,
    animal_boxes: BoxesLike,
    object_boxes: BoxesLike,
    order: Sequence[int] | None = None,
) -> list[np.ndarray]:
    """The animal's crop (H', W', 3) of the frames in ``order`` (default: every usable frame in
    time order) that the video has; the crops stop at the first frame past its end."""
    animal = as_boxes(animal_boxes)
    out = []
    for t in usable_frames(animal_boxes, object_boxes) if order is None else order:
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
