"""The DSR-Score of a video (docs/method.md §4), for one video and vectorized for a batch.

Only usable frames count (both boxes present, finite, positive width and height), in time order;
frames with a *degenerate* box (given, but with zero or negative width or height) are unusable too,
and counted (``n_degenerate_frames``) so that a ``too_few_frames`` verdict says why.
With ``R_i``/``R_f`` the SSR sequences of the initial/final relation over those ``n`` frames::

    r_init = mean(R_i[:m])            g_init = (R_i[0] - R_i[-1]) / 2
    r_f    = mean(R_f[-m:])           g_f    = (R_f[-1] - R_f[0]) / 2
    DSR-Score = (r_init + r_f + g_init + g_f) / 8 + 0.5        in [0, 1]

and a video with ``n < min_frames`` is invalid (``too_few_frames``).

The relations of docs/method.md §8 score their frames by :mod:`dsr.scoring.relations`; for a type
with ``front`` or ``behind`` a frame is usable only when it also has depth evidence. A three-stage
type A → B → C (``middle`` given) is cut at one usable frame into A → B and B → C (the frame is in
both parts, each of at least m + 1 frames); each part is scored as above and the video's score is
the lower of the two, at the cut where that is highest (docs/method.md §8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dsr.errors import ConfigError
from dsr.limits import MAX_FRAMES, check_max
from dsr.prompts.model import DSRType, Relation
from dsr.scoring.geometry import (
    BOX_CHECKS,
    BoxesLike,
    SSRPlanes,
    as_boxes,
    degenerate_mask,
    ssr_planes,
)
from dsr.scoring.relations import (
    DEFAULT_DEPTH_MARGIN,
    DepthInputs,
    FrameInputs,
    frame_scores,
)

__all__ = [
    "DEFAULT_M",
    "DEFAULT_MIN_FRAMES",
    "DSRScore",
    "DSRScoreBatch",
    "ScoreConfig",
    "dsr_score",
    "dsr_scores",
]

DEFAULT_M = 3
DEFAULT_MIN_FRAMES = 20
TOO_FEW_FRAMES = "too_few_frames"
#: The reason of a video whose type needs depth (front, behind) scored without depth inputs.
NO_DEPTH = "no_depth"


@dataclass(frozen=True)
class ScoreConfig:
    """DSR-Score settings (docs/method.md §4)."""

    m: int = field(default=DEFAULT_M, metadata={"help": "Frames averaged for r_init and r_f."})
    min_frames: int = field(
        default=DEFAULT_MIN_FRAMES,
        metadata={"help": "Usable frames below which a video is invalid."},
    )
    box_check: str = field(
        default="positive",
        metadata={
            "help": "Which frames count: positive (both boxes with positive width and height) "
            "or authors (their scorer's checks: a box one pixel tall, height 0, is kept).",
            "choices": BOX_CHECKS,
        },
    )

    def __post_init__(self) -> None:
        _check(self.m, self.min_frames, self.box_check)


@dataclass(frozen=True)
class DSRScore:
    """The DSR-Score of one video with its components.

    ``score`` is None when the video is invalid (``reason`` says why). ``ssr_initial`` and
    ``ssr_final`` hold one value per input frame, NaN where the frame was unusable.
    ``n_degenerate_frames`` counts the frames left out for a degenerate box (see
    :func:`dsr.scoring.geometry.degenerate_mask`).
    """

    score: float | None
    valid: bool
    reason: str | None
    r_init: float | None
    r_final: float | None
    g_init: float | None
    g_final: float | None
    n_frames: int
    ssr_initial: tuple[float, ...] = field(repr=False)
    ssr_final: tuple[float, ...] = field(repr=False)
    n_degenerate_frames: int = 0
    stage_scores: tuple[float, float] | None = None
    stage_split: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain values; NaN in the SSR sequences becomes None (JSON/parquet null). The stage
        fields appear only for a three-stage type."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for key in ("ssr_initial", "ssr_final"):
            out[key] = [None if np.isnan(v) else float(v) for v in out[key]]
        if self.stage_split is None:
            del out["stage_scores"], out["stage_split"]
        return out


@dataclass(frozen=True)
class DSRScoreBatch:
    """DSR-Scores of many videos as arrays (NaN score where invalid)."""

    score: np.ndarray
    valid: np.ndarray
    r_init: np.ndarray
    r_final: np.ndarray
    g_init: np.ndarray
    g_final: np.ndarray
    n_frames: np.ndarray
    ssr_initial: np.ndarray
    ssr_final: np.ndarray
    n_degenerate: np.ndarray | None = None
    stage_scores: np.ndarray | None = None
    stage_split: np.ndarray | None = None
    no_depth: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.score.shape[0])

    def item(self, i: int) -> DSRScore:
        """The i-th video as a :class:`DSRScore`."""
        valid = bool(self.valid[i])

        def opt(arr: np.ndarray) -> float | None:
            return float(arr[i]) if valid else None

        return DSRScore(
            score=opt(self.score),
            valid=valid,
            reason=None if valid else self._reason(i),
            r_init=opt(self.r_init),
            r_final=opt(self.r_final),
            g_init=opt(self.g_init),
            g_final=opt(self.g_final),
            n_frames=int(self.n_frames[i]),
            ssr_initial=tuple(float(v) for v in self.ssr_initial[i]),
            ssr_final=tuple(float(v) for v in self.ssr_final[i]),
            n_degenerate_frames=0 if self.n_degenerate is None else int(self.n_degenerate[i]),
            **self._stages(i, valid),
        )

    def _reason(self, i: int) -> str:
        return NO_DEPTH if self.no_depth is not None and self.no_depth[i] else TOO_FEW_FRAMES

    def _stages(self, i: int, valid: bool) -> dict[str, Any]:
        if self.stage_split is None or self.stage_scores is None or self.stage_split[i] < -1:
            return {}
        split = int(self.stage_split[i])
        first, second = (float(v) for v in self.stage_scores[i])
        return {
            "stage_scores": (first, second) if valid else None,
            "stage_split": split if valid else -1,
        }

    def to_list(self) -> list[DSRScore]:
        return [self.item(i) for i in range(len(self))]


def _check(m: int, min_frames: int, box_check: str = "positive") -> None:
    if box_check not in BOX_CHECKS:
        raise ConfigError(
            f"box_check={box_check!r}: choose positive (ours) or authors (their scorer's checks)"
        )
    if m < 1:
        raise ConfigError(f"m={m} must be at least 1 (the paper uses m=3)")
    if min_frames < 1:
        raise ConfigError(f"min_frames={min_frames} must be at least 1 (the paper uses 20)")
    check_max("m", m, MAX_FRAMES, "the paper uses m=3")
    check_max("min_frames", min_frames, MAX_FRAMES, "the paper uses 20")


def _relations(relations: Sequence[Relation | str] | Relation | str, n: int) -> list[Relation]:
    """One Relation per video; a single relation (a Relation or a bare name) applies to all."""
    if isinstance(relations, str):  # Relation is a str too
        return [Relation.coerce(relations)] * n
    out = [Relation.coerce(r) for r in relations]
    if len(out) != n:
        raise ValueError(f"need one relation per video: got {len(out)} for {n} videos")
    return out


def _select(planes: SSRPlanes, relations: list[Relation]) -> np.ndarray:
    """Per video, the SSR plane of its relation: (B, N) from the (B, N) left/top planes."""
    if len(set(relations)) == 1:  # the common case of one relation for the whole batch
        return planes.relation(relations[0])
    rel = np.array([r.value for r in relations])[:, None]
    left = np.where(rel == Relation.RIGHT.value, -planes.left, planes.left) + 0.0  # + 0.0: no −0.0
    return np.where(rel == Relation.TOP.value, planes.top, left)


def _nth(values: np.ndarray, rank: np.ndarray, count: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Per video, the value at its k-th usable frame (k ≥ 1), or 0 where it has fewer frames.

    ``rank`` is the running count of usable frames, so the k-th usable frame is the first one
    whose rank reaches k.
    """
    if values.shape[1] == 0:
        return np.zeros(values.shape[0])
    index = np.argmax(rank >= k[:, None], axis=1)
    picked = np.take_along_axis(values, index[:, None], axis=1)[:, 0]
    return np.where((k >= 1) & (k <= count), picked, 0.0)


def _components(
    ssr_i: np.ndarray, ssr_f: np.ndarray, usable: np.ndarray, m: int
) -> tuple[np.ndarray, ...]:
    """r_init, r_final, g_init, g_final and the usable-frame count of every video.

    Sums run in frame order (``R[0] + R[1] + ...``), like ``sum(R[:m])`` and ``sum(R[-m:])`` in
    plain Python, so a per-frame loop gives the very same floats.
    """
    rank = np.cumsum(usable, axis=1)
    count = rank[:, -1] if rank.shape[1] else np.zeros(rank.shape[0], dtype=np.int64)
    ones, zero = np.ones_like(count), np.zeros(len(count))
    r_init = sum((_nth(ssr_i, rank, count, ones * k) for k in range(1, m + 1)), zero)
    r_final = sum((_nth(ssr_f, rank, count, count - j) for j in range(m - 1, -1, -1)), zero)
    denom = np.maximum(np.minimum(count, m), 1)
    g_init = (_nth(ssr_i, rank, count, ones) - _nth(ssr_i, rank, count, count)) / 2.0
    g_final = (_nth(ssr_f, rank, count, count) - _nth(ssr_f, rank, count, ones)) / 2.0
    return r_init / denom, r_final / denom, g_init, g_final, count


def dsr_scores(
    animal_boxes: np.ndarray,
    object_boxes: np.ndarray,
    initial: Sequence[Relation | str] | Relation | str,
    final: Sequence[Relation | str] | Relation | str,
    *,
    m: int = DEFAULT_M,
    min_frames: int = DEFAULT_MIN_FRAMES,
    box_check: str = "positive",
    middle: Sequence[Relation | str | None] | None = None,
    depth: DepthInputs | None = None,
    depth_margin: float = DEFAULT_DEPTH_MARGIN,
) -> DSRScoreBatch:
    """Vectorized DSR-Score of B videos.

    ``animal_boxes`` and ``object_boxes`` have shape (B, N, 4); videos shorter than N are padded
    with NaN rows (padding is unusable, so it changes nothing). ``initial`` and ``final`` give one
    relation per video, or a single relation for all of them. ``box_check`` decides which frames
    are usable (see :data:`~dsr.scoring.geometry.BOX_CHECKS`). ``middle`` gives per video the
    middle relation of a three-stage type (None for two stages); ``depth`` (arrays (B, N)) is
    needed when a video's relations include ``front`` or ``behind`` (without it such a video is
    invalid, reason ``no_depth``), ``depth_margin`` sets their scale (docs/method.md §8).
    """
    _check(m, min_frames, box_check)
    animal = as_boxes(animal_boxes)
    obj = as_boxes(object_boxes)
    if animal.ndim != 3 or animal.shape != obj.shape:
        raise ValueError(
            f"expected animal and object boxes of equal shape (B, N, 4), got {animal.shape} "
            f"and {obj.shape}"
        )
    n_videos = animal.shape[0]
    planes = ssr_planes(animal, obj, box_check)
    rels_i, rels_f = _relations(initial, n_videos), _relations(final, n_videos)
    mids = [None] * n_videos if middle is None else _middles(middle, n_videos)
    paper = all(r.spec.paper for r in (*rels_i, *rels_f)) and not any(mids)
    if paper:  # the paper's relations: exactly the original computation
        usable, ssr_i, ssr_f = planes.usable, _select(planes, rels_i), _select(planes, rels_f)
        stages: tuple[np.ndarray, ...] | None = None
        no_depth = None
    else:
        inputs = FrameInputs(animal, obj, depth, box_check, depth_margin)
        types = [
            DSRType(tuple(r for r in (a, b, c) if r is not None))
            for a, b, c in zip(rels_i, mids, rels_f, strict=True)
        ]
        usable, no_depth = _usable(planes.usable, types, depth)
        ssr_i, ssr_f = (_select_any(inputs, rels, usable) for rels in (rels_i, rels_f))
        stages = _staged(inputs, types, usable, m) if any(mids) else None
    r_init, r_final, g_init, g_final, count = _components(ssr_i, ssr_f, usable, m)
    valid = count >= min_frames
    if stages is not None:
        valid &= stages[0][:, 0] != -1
    score = (r_init + r_final + g_init + g_final) / 8.0 + 0.5
    if stages is not None:
        staged = stages[0][:, 0] >= -1
        for arr, new in zip((score, r_init, r_final, g_init, g_final), stages[2:], strict=True):
            arr[staged] = new[staged]
    return DSRScoreBatch(
        score=np.where(valid, score, np.nan),
        valid=valid,
        r_init=r_init,
        r_final=r_final,
        g_init=g_init,
        g_final=g_final,
        n_frames=count.astype(np.int64),
        ssr_initial=ssr_i,
        ssr_final=ssr_f,
        n_degenerate=(degenerate_mask(animal, obj) & ~planes.usable).sum(axis=-1).astype(np.int64),
        stage_scores=None if stages is None else stages[1],
        stage_split=None if stages is None else stages[0][:, 0],
        no_depth=no_depth,
    )


def _middles(middle: Sequence[Relation | str | None], n: int) -> list[Relation | None]:
    out = [None if r in (None, "") else Relation.coerce(r) for r in middle]
    if len(out) != n:
        raise ValueError(f"need one middle relation (or None) per video: got {len(out)} for {n}")
    return out


def _usable(
    boxes_usable: np.ndarray, types: list[DSRType], depth: DepthInputs | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Usable frames (boxes usable and, for a type with front/behind, depth evidence), and which
    videos need depth that was not given (None when none does)."""
    needs = np.array([t.needs_depth for t in types], dtype=bool)
    if not needs.any():
        return boxes_usable, None
    if depth is None:
        return boxes_usable & ~needs[:, None], needs
    return boxes_usable & np.where(needs[:, None], depth.decidable(), True), None


def _select_any(inputs: FrameInputs, relations: list[Relation], usable: np.ndarray) -> np.ndarray:
    """Per video, the per-frame score of its relation (NaN where the frame is not usable)."""
    out = np.full(usable.shape, np.nan)
    for rel in dict.fromkeys(relations):
        rows = np.array([r is rel for r in relations], dtype=bool)
        out[rows] = frame_scores(rel, inputs)[rows]
    return np.where(usable, out, np.nan)


def _two_stage(ri: np.ndarray, rf: np.ndarray, m: int) -> tuple[float, ...]:
    """§4's DSR-Score of one segment: score, r_init, r_final, g_init, g_final."""
    r_init = float(np.mean(ri[:m]))
    r_final = float(np.mean(rf[-m:]))
    g_init = float(ri[0] - ri[-1]) / 2.0
    g_final = float(rf[-1] - rf[0]) / 2.0
    return ((r_init + r_final + g_init + g_final) / 8.0 + 0.5, r_init, r_final, g_init, g_final)


def _best_split(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, m: int
) -> tuple[int, tuple[float, ...], tuple[float, ...]]:
    """The cut (an index into the usable frames, shared by both parts) whose lower part score is
    highest, the first on ties; each part keeps at least m + 1 frames."""
    best: tuple[float, int, tuple[float, ...], tuple[float, ...]] | None = None
    for cut in range(m, len(a) - m):
        first, second = _two_stage(a[: cut + 1], b[: cut + 1], m), _two_stage(b[cut:], c[cut:], m)
        if best is None or min(first[0], second[0]) > best[0]:
            best = (min(first[0], second[0]), cut, first, second)
    assert best is not None  # the caller guarantees len(a) >= 2 m + 1
    return best[1], best[2], best[3]


def _staged(
    inputs: FrameInputs, types: list[DSRType], usable: np.ndarray, m: int
) -> tuple[np.ndarray, ...]:
    """For three-stage videos: split frame (−2 for two-stage videos, −1 where too short), the two
    segment scores, then score, r_init, r_final, g_init, g_final of the video."""
    n_videos = len(types)
    split = np.full((n_videos, 1), -2, dtype=np.int64)
    parts = np.full((n_videos, 2), np.nan)
    out = [np.full(n_videos, np.nan) for _ in range(5)]
    cache: dict[Relation, np.ndarray] = {}
    for j, t in enumerate(types):
        if t.middle is None:
            continue
        frames = np.flatnonzero(usable[j])
        if len(frames) < 2 * m + 1:
            split[j] = -1
            continue
        a, b, c = (cache.setdefault(r, frame_scores(r, inputs))[j, frames] for r in t.relations)
        cut, first, second = _best_split(a, b, c, m)
        split[j], parts[j] = frames[cut], (first[0], second[0])
        values = (min(first[0], second[0]), first[1], second[2], first[3], second[4])
        for arr, v in zip(out, values, strict=True):
            arr[j] = v
    return (split, parts, *out)


def dsr_score(
    animal_boxes: BoxesLike,
    object_boxes: BoxesLike,
    initial: Relation | str,
    final: Relation | str,
    *,
    m: int = DEFAULT_M,
    min_frames: int = DEFAULT_MIN_FRAMES,
    box_check: str = "positive",
    middle: Relation | str | None = None,
    depth: DepthInputs | None = None,
    depth_margin: float = DEFAULT_DEPTH_MARGIN,
) -> DSRScore:
    """DSR-Score of one video from its per-frame boxes (sequences or arrays of shape (N, 4);
    None or NaN marks an absent box). ``middle``, ``depth`` (arrays (N,)) and ``depth_margin`` as
    in :func:`dsr_scores`."""
    animal = as_boxes(animal_boxes)
    obj = as_boxes(object_boxes)
    if len(animal) != len(obj):
        raise ValueError(
            f"animal and object tracks differ in length ({len(animal)} vs {len(obj)} frames)"
        )
    batch = dsr_scores(
        animal[None],
        obj[None],
        [initial],
        [final],
        m=m,
        min_frames=min_frames,
        box_check=box_check,
        middle=None if middle is None else [middle],
        depth=None if depth is None else _one(depth),
        depth_margin=depth_margin,
    )
    return batch.item(0)


def _one(depth: DepthInputs) -> DepthInputs:
    """One video's depth inputs as a batch of one."""
    return DepthInputs(depth.animal_depth[None], depth.object_depth[None], depth.occlusion[None])
