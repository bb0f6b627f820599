"""SSR geometry of docs/method.md §4, vectorized over frames (pure numpy).

Boxes are ``xyxy`` in pixels with the image y axis pointing down. The SSR score of one frame for a
relation is ``cos · d`` where ``cos`` is the cosine between the object-to-animal centre vector and
the relation's axis, and ``d`` the centre offset along that axis normalized by the mean box width
(left/right) or the mean box height (top), clipped to [0, 1].
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple, TypeAlias

import numpy as np

from dsr.prompts.model import Relation

__all__ = [
    "AXES",
    "BOX_CHECKS",
    "SSRPlanes",
    "BoxesLike",
    "as_boxes",
    "box_tuple",
    "degenerate_mask",
    "ssr_planes",
    "ssr_score",
    "ssr_scores",
    "usable_mask",
]

#: Unit vector of each relation in image coordinates (y down, so "top" is −y).
AXES: dict[Relation, tuple[float, float]] = {
    Relation.LEFT: (-1.0, 0.0),
    Relation.RIGHT: (1.0, 0.0),
    Relation.TOP: (0.0, -1.0),
}


#: Which frames are usable. positive: both boxes present, finite, with positive width and height;
#: authors: the checks of the authors' scorer, which skips a frame only for a zero mean width, a
#: zero mean height or a zero width of either box (a box one pixel tall, height 0, is kept).
BOX_CHECKS = ("positive", "authors")

#: Boxes as callers hold them: an array (..., 4), or a sequence of xyxy boxes with None for absent.
BoxesLike: TypeAlias = "np.ndarray | Iterable[Sequence[float] | None]"


def box_tuple(values: Iterable[float]) -> tuple[float, float, float, float]:
    """Four numbers as an xyxy box of floats."""
    x1, y1, x2, y2 = (float(v) for v in values)
    return x1, y1, x2, y2


def as_boxes(boxes: BoxesLike) -> np.ndarray:
    """Convert a sequence of boxes (None for absent) into a float array of shape (..., 4) with NaN
    rows for absent boxes."""
    if isinstance(boxes, np.ndarray):
        arr = boxes.astype(np.float64, copy=False)
    else:
        rows = [[np.nan] * 4 if b is None else list(b) for b in boxes]
        arr = np.asarray(rows, dtype=np.float64) if rows else np.zeros((0, 4))
    if arr.shape[-1:] != (4,):
        raise ValueError(f"boxes must have shape (..., 4) in xyxy order, got {arr.shape}")
    return arr


class SSRPlanes(NamedTuple):
    """Per-frame arrays of one pass over the boxes (shape ``boxes.shape[:-1]``).

    ``left`` and ``top`` are the SSR scores for those relations (NaN where unusable); the score
    for ``right`` is ``-left``, as its axis is the opposite one with the same normalization.
    """

    usable: np.ndarray
    left: np.ndarray
    top: np.ndarray

    def relation(self, relation: Relation | str) -> np.ndarray:
        """The SSR plane of one relation."""
        rel = Relation.coerce(relation)
        if rel is Relation.TOP:
            return self.top
        return self.left if rel is Relation.LEFT else -self.left + 0.0  # + 0.0: no -0.0


def _extents(
    animal: np.ndarray, obj: np.ndarray, box_check: str = "positive"
) -> tuple[np.ndarray, ...]:
    """Widths and heights (animal, then object) and the usable mask.

    With ``box_check="positive"`` a frame is usable when every extent is positive and their sum
    finite, which is the case exactly when all eight coordinates are finite with x2 > x1 and
    y2 > y1 (short of coordinates so large, beyond 1e307, that the extents overflow). With
    ``"authors"``: finite, and neither the mean width, the mean height nor a width is zero.
    """
    if box_check not in BOX_CHECKS:
        raise ValueError(f"box_check={box_check!r}: choose one of {', '.join(BOX_CHECKS)}")
    with np.errstate(invalid="ignore", over="ignore"):
        wa, ha = animal[..., 2] - animal[..., 0], animal[..., 3] - animal[..., 1]
        wo, ho = obj[..., 2] - obj[..., 0], obj[..., 3] - obj[..., 1]
        finite = np.isfinite(wa + ha + wo + ho)
        if box_check == "authors":
            kept = (wa + wo != 0) & (ha + ho != 0) & (wa != 0) & (wo != 0)
        else:
            kept = (wa > 0) & (ha > 0) & (wo > 0) & (ho > 0)
    return wa, ha, wo, ho, kept & finite


def usable_mask(animal: np.ndarray, obj: np.ndarray, box_check: str = "positive") -> np.ndarray:
    """Frames where both boxes are present and finite and pass ``box_check`` (:data:`BOX_CHECKS`;
    by default: positive width and height)."""
    return _extents(animal, obj, box_check)[-1]


def degenerate_mask(animal: np.ndarray, obj: np.ndarray) -> np.ndarray:
    """Frames where a box is given (not all NaN) but is no box: zero or negative width or height,
    or a non-finite coordinate. Such frames are unusable like absent ones, which hides why a video
    has too few usable frames unless they are counted."""

    def broken(box: np.ndarray) -> np.ndarray:
        given = ~np.isnan(box).all(axis=-1)
        with np.errstate(invalid="ignore"):
            proper = (
                np.isfinite(box).all(axis=-1)
                & (box[..., 2] > box[..., 0])
                & (box[..., 3] > box[..., 1])
            )
        return given & ~proper

    return broken(animal) | broken(obj)


def ssr_planes(animal: np.ndarray, obj: np.ndarray, box_check: str = "positive") -> SSRPlanes:
    """SSR scores of every frame for all three relations at once (arrays (..., 4) in).

    With ``v`` the object-to-animal centre vector: ``r(left) = (−v_x/|v|) · min(|v_x| / mean
    width, 1)`` and ``r(top) = (−v_y/|v|) · min(|v_y| / mean height, 1)`` (image y points down),
    0 when ``|v| = 0``; NaN where the frame is unusable.
    """
    wa, ha, wo, ho, usable = _extents(animal, obj, box_check)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        vx = (animal[..., 0] + animal[..., 2] - obj[..., 0] - obj[..., 2]) / 2.0
        vy = (animal[..., 1] + animal[..., 3] - obj[..., 1] - obj[..., 3]) / 2.0
        norm = np.hypot(vx, vy)
        norm = np.where(norm > 0, norm, np.inf)  # cos = 0 when the centres coincide
        left = (-vx / norm) * np.minimum(np.abs(vx) / ((wa + wo) / 2.0), 1.0) + 0.0
        top = (-vy / norm) * np.minimum(np.abs(vy) / ((ha + ho) / 2.0), 1.0) + 0.0
    return SSRPlanes(usable, np.where(usable, left, np.nan), np.where(usable, top, np.nan))


def ssr_scores(animal: np.ndarray, obj: np.ndarray, relation: Relation | str) -> np.ndarray:
    """SSR score of every frame: arrays (..., 4) in, array (...) out (NaN where unusable)."""
    return ssr_planes(as_boxes(animal), as_boxes(obj)).relation(relation)


def ssr_score(
    animal_box: Sequence[float], object_box: Sequence[float], relation: Relation | str
) -> float:
    """SSR score r(frame, relation) in [−1, 1] for one frame (docs/method.md §4).

    Raises ``ValueError`` when a box is not finite or has no area: such a frame has no score.
    """
    a = as_boxes([animal_box])
    o = as_boxes([object_box])
    if a.shape != (1, 4) or o.shape != (1, 4):
        raise ValueError(
            f"boxes must be 4 numbers x1, y1, x2, y2; got {animal_box!r}, {object_box!r}"
        )
    if not usable_mask(a, o)[0]:
        raise ValueError(
            f"unusable frame: boxes {animal_box!r} and {object_box!r} must be present, finite "
            "xyxy with x2 > x1 and y2 > y1"
        )
    return float(ssr_scores(a, o, relation)[0])
