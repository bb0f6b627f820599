"""Per-frame scores of every registered relation (docs/method.md §4, §8), pure numpy.

Each score lies in [−1, 1]: 1 when the frame fully shows the relation, −1 when it shows the
opposite, 0 when it cannot tell; NaN marks a frame that cannot be scored at all (a box missing, or
for ``front``/``behind`` neither a depth for both masks nor occlusion evidence). With ``v`` the
object-to-animal centre vector (image y pointing down):

- ``left``, ``right``, ``top``: the paper's SSR scores (:func:`dsr.scoring.geometry.ssr_planes`),
  unchanged;
- ``under``: ``cos(v, (0, +1)) · clip(|v_y| / min(0.1·h_a, 0.1·h_o), 0, 1)``, the vertical score of
  the authors' metric script for "U" types: the animal's centre below the object's by a tenth of
  the smaller box height already counts in full (an animal under a table overlaps it, so the
  centre offset is small);
- ``front``: +1 / −1 where the frame has occlusion evidence (the animal's mask covers the object's:
  +1; the object covers the animal: −1); otherwise ``clip((depth_o − depth_a) / margin, −1, 1)``
  with each entity's median relative distance in the frame (0 nearest, 1 farthest) and
  ``margin`` = :data:`DEFAULT_DEPTH_MARGIN` of the frame's depth range;
- ``behind``: −front.

:class:`DepthInputs` holds the per-frame depth values a tracker with a depth model provides;
:class:`TracksLike` is one sample's tracks as plain Python lists, the form tests and other
trackers can hand over without any dsr tracking code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from dsr.prompts.relations import Relation
from dsr.scoring.geometry import BoxesLike, as_boxes, ssr_planes

__all__ = [
    "DEFAULT_DEPTH_MARGIN",
    "DEPTH_COLUMNS",
    "FRAME_SCORES",
    "UNDER_SCALE",
    "DepthInputs",
    "FrameInputs",
    "TracksLike",
    "frame_scores",
]

#: Difference of median relative distance (a share of the frame's depth range) at which
#: ``front``/``behind`` count in full.
DEFAULT_DEPTH_MARGIN = 0.1
#: Share of the smaller box height at which ``under`` counts in full (the authors' 0.1).
UNDER_SCALE = 0.1
#: Per-frame columns of a tracks row that ``front``/``behind`` read: floats, one per frame.
DEPTH_COLUMNS = ("animal_depth", "object_depth", "occlusion")


@dataclass(frozen=True)
class DepthInputs:
    """Per-frame depth evidence, arrays of the boxes' frame shape (``(N,)`` or ``(B, N)``).

    ``animal_depth``/``object_depth``: median over the entity's mask of the frame's relative
    distance, normalized to [0, 1] within the frame (0 nearest pixel, 1 farthest), NaN where the
    mask is absent or no depth was estimated. ``occlusion``: +1 where the animal occludes the
    object, −1 where the object occludes the animal, 0 (or NaN) for none or unknown.
    """

    animal_depth: np.ndarray
    object_depth: np.ndarray
    occlusion: np.ndarray

    @classmethod
    def of(
        cls,
        animal_depth: Sequence[float | None] | np.ndarray,
        object_depth: Sequence[float | None] | np.ndarray,
        occlusion: Sequence[float | None] | np.ndarray | None = None,
    ) -> DepthInputs:
        """From lists (None as NaN); no occlusion given means none known."""
        a = _floats(animal_depth)
        o = _floats(object_depth)
        occ = np.zeros(a.shape) if occlusion is None else _floats(occlusion)
        if not a.shape == o.shape == occ.shape:
            raise ValueError(
                f"depth inputs differ in shape: animal_depth {a.shape}, object_depth {o.shape}, "
                f"occlusion {occ.shape}"
            )
        return cls(a, o, np.sign(np.nan_to_num(occ)))

    def decidable(self) -> np.ndarray:
        """Frames with occlusion evidence or a finite depth for both masks."""
        both = np.isfinite(self.animal_depth) & np.isfinite(self.object_depth)
        return both | (self.occlusion != 0)


def _floats(values: Sequence[float | None] | np.ndarray) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values.astype(np.float64, copy=False)
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


@dataclass(frozen=True)
class FrameInputs:
    """What the per-frame scores read: boxes (…, 4), optional depth, and the settings."""

    animal: np.ndarray
    object: np.ndarray
    depth: DepthInputs | None = None
    box_check: str = "positive"
    depth_margin: float = DEFAULT_DEPTH_MARGIN

    def usable(self) -> np.ndarray:
        return ssr_planes(self.animal, self.object, self.box_check).usable


def _left(f: FrameInputs) -> np.ndarray:
    return ssr_planes(f.animal, f.object, f.box_check).left


def _right(f: FrameInputs) -> np.ndarray:
    return ssr_planes(f.animal, f.object, f.box_check).relation(Relation.RIGHT)


def _top(f: FrameInputs) -> np.ndarray:
    return ssr_planes(f.animal, f.object, f.box_check).top


def _under(f: FrameInputs) -> np.ndarray:
    """cos(v, down) · clip(|v_y| / min(0.1 h_a, 0.1 h_o), 0, 1); a zero scale (a box of zero
    height, kept by the authors' box check) counts any vertical offset in full."""
    a, o = f.animal, f.object
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        vx = (a[..., 0] + a[..., 2] - o[..., 0] - o[..., 2]) / 2.0
        vy = (a[..., 1] + a[..., 3] - o[..., 1] - o[..., 3]) / 2.0
        norm = np.hypot(vx, vy)
        cos = vy / np.where(norm > 0, norm, np.inf)
        scale = UNDER_SCALE * np.minimum(a[..., 3] - a[..., 1], o[..., 3] - o[..., 1])
        d = np.where(scale > 0, np.abs(vy) / np.where(scale > 0, scale, 1.0), vy != 0)
        score = cos * np.minimum(d, 1.0) + 0.0
    return np.where(f.usable(), score, np.nan)


def _front(f: FrameInputs) -> np.ndarray:
    """Occlusion evidence where there is some, else the clipped depth difference."""
    shape = f.animal.shape[:-1]
    if f.depth is None:
        return np.full(shape, np.nan)
    d = f.depth
    if d.animal_depth.shape != shape:
        raise ValueError(
            f"depth inputs have shape {d.animal_depth.shape}, the boxes' frames {shape}"
        )
    with np.errstate(invalid="ignore"):
        by_depth = np.clip((d.object_depth - d.animal_depth) / f.depth_margin, -1.0, 1.0)
    score = np.where(d.occlusion != 0, d.occlusion, by_depth) + 0.0
    return np.where(f.usable() & d.decidable(), score, np.nan)


def _behind(f: FrameInputs) -> np.ndarray:
    return -_front(f) + 0.0


#: Relation → its per-frame score (one for every registered relation).
FRAME_SCORES: dict[Relation, Callable[[FrameInputs], np.ndarray]] = {
    Relation.LEFT: _left,
    Relation.RIGHT: _right,
    Relation.TOP: _top,
    Relation.UNDER: _under,
    Relation.FRONT: _front,
    Relation.BEHIND: _behind,
}


def frame_scores(relation: Relation | str, inputs: FrameInputs) -> np.ndarray:
    """Per-frame score of ``relation`` in [−1, 1] (NaN where the frame cannot be scored)."""
    return FRAME_SCORES[Relation.coerce(relation)](inputs)


@dataclass(frozen=True)
class TracksLike:
    """One sample's tracks as plain Python values: per-frame boxes (``[x1, y1, x2, y2]`` or None)
    and, for prompts that need depth, per-frame ``animal_depth``, ``object_depth`` (floats or
    None) and ``occlusion`` (−1, 0 or +1), as :data:`DEPTH_COLUMNS` name them in a tracks row."""

    animal_boxes: Sequence[Sequence[float] | None]
    object_boxes: Sequence[Sequence[float] | None]
    animal_depth: Sequence[float | None] | None = None
    object_depth: Sequence[float | None] | None = None
    occlusion: Sequence[float | None] | None = field(default=None)

    def boxes(self) -> tuple[np.ndarray, np.ndarray]:
        a: BoxesLike = self.animal_boxes
        o: BoxesLike = self.object_boxes
        return as_boxes(a), as_boxes(o)

    def depth(self) -> DepthInputs | None:
        """The depth inputs, or None when the tracks carry no depth."""
        if self.animal_depth is None or self.object_depth is None:
            return None
        return DepthInputs.of(self.animal_depth, self.object_depth, self.occlusion)

    def inputs(
        self, *, box_check: str = "positive", depth_margin: float = DEFAULT_DEPTH_MARGIN
    ) -> FrameInputs:
        """Boxes and depth as arrays for :func:`frame_scores`."""
        animal, obj = self.boxes()
        return FrameInputs(animal, obj, self.depth(), box_check, depth_margin)
