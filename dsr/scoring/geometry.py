"""SSR geometry of SPEC §4, vectorized over frames (pure numpy).

Boxes are ``xyxy`` in pixels with the image y axis pointing down. The SSR score of one frame for a
relation is ``cos · d`` where ``cos`` is the cosine between the object-to-animal centre vector and
the relation's axis, and ``d`` the centre offset along that axis normalized by the mean box width
(left/right) or the mean box height (top), clipped to [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dsr.prompts.model import Relation

__all__ = ["AXES", "as_boxes", "ssr_along", "ssr_score", "ssr_scores", "usable_mask"]

#: Unit vector of each relation in image coordinates (y down, so "top" is −y).
AXES: dict[Relation, tuple[float, float]] = {
    Relation.LEFT: (-1.0, 0.0),
    Relation.RIGHT: (1.0, 0.0),
    Relation.TOP: (0.0, -1.0),
}


def as_boxes(boxes: object) -> np.ndarray:
    """Convert a sequence of boxes (None for absent) into a float array of shape (..., 4) with NaN
    rows for absent boxes."""
    if isinstance(boxes, np.ndarray):
        arr = boxes.astype(np.float64, copy=False)
    else:
        rows = [[np.nan] * 4 if b is None else list(b) for b in boxes]  # type: ignore[union-attr]
        arr = np.asarray(rows, dtype=np.float64) if rows else np.zeros((0, 4))
    if arr.shape[-1:] != (4,):
        raise ValueError(f"boxes must have shape (..., 4) in xyxy order, got {arr.shape}")
    return arr


def usable_mask(animal: np.ndarray, obj: np.ndarray) -> np.ndarray:
    """Frames where both boxes are present, finite and have positive width and height."""
    ok = np.ones(animal.shape[:-1], dtype=bool)
    for box in (animal, obj):
        ok &= np.isfinite(box).all(axis=-1)
        with np.errstate(invalid="ignore"):
            ok &= (box[..., 2] > box[..., 0]) & (box[..., 3] > box[..., 1])
    return ok


def ssr_scores(animal: np.ndarray, obj: np.ndarray, relation: Relation | str) -> np.ndarray:
    """SSR score of every frame: arrays (..., 4) in, array (...) out (NaN where unusable)."""
    rel = Relation.coerce(relation)
    ux, uy = AXES[rel]
    return ssr_along(animal, obj, np.float64(ux), np.float64(uy))


def ssr_along(animal: np.ndarray, obj: np.ndarray, ux: np.ndarray, uy: np.ndarray) -> np.ndarray:
    """SSR score for axis (ux, uy), broadcast against the frame dimensions.

    A vertical axis (ux == 0) normalizes by the mean box height, a horizontal one by the mean
    width; NaN where the frame is unusable.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        vx = (animal[..., 0] + animal[..., 2] - obj[..., 0] - obj[..., 2]) / 2.0
        vy = (animal[..., 1] + animal[..., 3] - obj[..., 1] - obj[..., 3]) / 2.0
        norm = np.hypot(vx, vy)
        cos = np.where(norm > 0, (vx * ux + vy * uy) / np.where(norm > 0, norm, 1.0), 0.0)
        vertical = ux == 0
        height = ((animal[..., 3] - animal[..., 1]) + (obj[..., 3] - obj[..., 1])) / 2.0
        width = ((animal[..., 2] - animal[..., 0]) + (obj[..., 2] - obj[..., 0])) / 2.0
        offset = np.where(vertical, np.abs(vy), np.abs(vx))
        dist = np.clip(offset / np.where(vertical, height, width), 0.0, 1.0)
        out = cos * dist + 0.0  # + 0.0 turns -0.0 into 0.0
    return np.where(usable_mask(animal, obj), out, np.nan)


def ssr_score(
    animal_box: Sequence[float], object_box: Sequence[float], relation: Relation | str
) -> float:
    """SSR score r(frame, relation) in [−1, 1] for one frame (SPEC §4).

    Raises ``ValueError`` when a box is not finite or has no area: such a frame has no score.
    """
    a = as_boxes([animal_box])
    o = as_boxes([object_box])
    if a.shape != (1, 4) or o.shape != (1, 4):
        raise ValueError(f"boxes must be 4 numbers x1, y1, x2, y2; got {animal_box!r}, {object_box!r}")
    if not usable_mask(a, o)[0]:
        raise ValueError(
            f"unusable frame: boxes {animal_box!r} and {object_box!r} must be present, finite "
            "xyxy with x2 > x1 and y2 > y1"
        )
    return float(ssr_scores(a, o, relation)[0])
