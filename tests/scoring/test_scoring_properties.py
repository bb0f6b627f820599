"""Property tests of the DSR-Score (hypothesis): range, invariances, mirroring, unusable frames,
and agreement of the vectorized batch scorer with the independent plain-Python reference of
``tests/reference_score.py``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference_score import reference_score

from dsr.prompts import DSRType, Relation
from dsr.scoring import DSRScore, dsr_score, dsr_scores

COMPONENTS = ("score", "r_init", "r_final", "g_init", "g_final")
MIRROR = {Relation.LEFT: Relation.RIGHT, Relation.RIGHT: Relation.LEFT, Relation.TOP: Relation.TOP}

_coord = st.floats(-300, 300, allow_nan=False, allow_infinity=False)
_size = st.floats(1, 100, allow_nan=False, allow_infinity=False)


def _boxes_from(corner: np.ndarray, size: np.ndarray) -> np.ndarray:
    return np.concatenate([corner, corner + size], axis=-1)


@st.composite
def videos(
    draw: st.DrawFn, min_frames: int = 20, max_frames: int = 40
) -> tuple[np.ndarray, np.ndarray]:
    """(animal, object) boxes of shape (N, 4), every frame usable."""
    n = draw(st.integers(min_frames, max_frames))
    corners = draw(hnp.arrays(np.float64, (2, n, 2), elements=_coord))
    sizes = draw(hnp.arrays(np.float64, (2, n, 2), elements=_size))
    return _boxes_from(corners[0], sizes[0]), _boxes_from(corners[1], sizes[1])


_types = st.sampled_from(list(DSRType))


def _same(a: DSRScore, b: DSRScore, tol: float = 1e-9) -> None:
    assert (a.valid, a.reason, a.n_frames) == (b.valid, b.reason, b.n_frames)
    for name in COMPONENTS:
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert x == pytest.approx(y, abs=tol), name


@settings(max_examples=100, deadline=None)
@given(video=videos(min_frames=0), dsr_type=_types)
def test_score_lies_in_unit_interval_and_ssr_in_minus_one_one(
    video: tuple, dsr_type: DSRType
) -> None:
    result = dsr_score(*video, dsr_type.initial, dsr_type.final)
    assert result.valid is (len(video[0]) >= 20)
    if result.valid:
        assert 0.0 <= result.score <= 1.0
    assert all(-1.0 <= v <= 1.0 for v in result.ssr_initial + result.ssr_final)


@settings(max_examples=100, deadline=None)
@given(
    video=videos(),
    dsr_type=_types,
    shift=hnp.arrays(np.float64, 2, elements=st.floats(-1000, 1000)),
    scale=st.floats(0.1, 10),
)
def test_invariant_to_translating_and_scaling_both_boxes(
    video: tuple, dsr_type: DSRType, shift: np.ndarray, scale: float
) -> None:
    animal, obj = video
    base = dsr_score(animal, obj, dsr_type.initial, dsr_type.final)
    offset = np.tile(shift, 2)
    _same(dsr_score(animal + offset, obj + offset, dsr_type.initial, dsr_type.final), base)
    _same(dsr_score(animal * scale, obj * scale, dsr_type.initial, dsr_type.final), base)


def _mirror(boxes: np.ndarray, width: float) -> np.ndarray:
    return np.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], axis=1)


@settings(max_examples=100, deadline=None)
@given(video=videos(), dsr_type=_types, width=st.floats(0, 1000))
def test_mirroring_the_scene_swaps_left_and_right(
    video: tuple, dsr_type: DSRType, width: float
) -> None:
    animal, obj = video
    base = dsr_score(animal, obj, dsr_type.initial, dsr_type.final)
    mirrored = dsr_score(
        _mirror(animal, width),
        _mirror(obj, width),
        MIRROR[dsr_type.initial],
        MIRROR[dsr_type.final],
    )
    _same(mirrored, base)


_UNUSABLE = [
    ("animal", [np.nan] * 4),
    ("object", [np.nan] * 4),
    ("animal", [5.0, 5.0, 5.0, 9.0]),  # zero width
    ("object", [5.0, 5.0, 9.0, 5.0]),  # zero height
    ("animal", [np.inf, 0.0, np.inf, 1.0]),
]


@settings(max_examples=100, deadline=None)
@given(
    video=videos(),
    dsr_type=_types,
    inserts=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, len(_UNUSABLE) - 1)), max_size=15
    ),
)
def test_inserting_unusable_frames_changes_nothing(
    video: tuple, dsr_type: DSRType, inserts: list
) -> None:
    animal, obj = (list(map(list, b)) for b in video)
    base = dsr_score(animal, obj, dsr_type.initial, dsr_type.final)
    for position, kind in inserts:
        at = position % (len(animal) + 1)
        which, box = _UNUSABLE[kind]
        good = [1.0, 1.0, 3.0, 3.0]
        animal.insert(at, box if which == "animal" else good)
        obj.insert(at, box if which == "object" else good)
    _same(dsr_score(animal, obj, dsr_type.initial, dsr_type.final), base, tol=1e-12)


def _blank(boxes: np.ndarray, frames: set[int], kind: int) -> np.ndarray:
    """``boxes`` with ``frames`` made unusable the ``kind``-th way of ``_UNUSABLE``."""
    out = boxes.copy()
    for t in (t for t in frames if t < len(out)):
        out[t] = _UNUSABLE[kind][1]
    return out


def _clip(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, DSRType]:
    """A video of 0..30 frames, some made unusable, and its DSR type."""
    animal, obj = draw(videos(min_frames=0, max_frames=30))
    kind = draw(st.integers(0, len(_UNUSABLE) - 1))
    drop = draw(st.sets(st.integers(0, 29), max_size=8))
    if _UNUSABLE[kind][0] == "animal":
        animal = _blank(animal, drop, kind)
    else:
        obj = _blank(obj, drop, kind)
    return animal, obj, draw(_types)


def _nan_to_none(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in values]


def _approx(values: list[float | None]) -> list[object]:
    return [None if v is None else pytest.approx(v, abs=1e-9) for v in values]


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(), n_videos=st.integers(1, 6), m=st.integers(1, 5), min_frames=st.integers(1, 25)
)
def test_batch_equals_the_plain_python_reference(
    data: st.DataObject, n_videos: int, m: int, min_frames: int
) -> None:
    clips = [_clip(data.draw) for _ in range(n_videos)]
    length = max(len(a) for a, _, _ in clips)
    animal = np.full((n_videos, length, 4), np.nan)
    obj = np.full((n_videos, length, 4), np.nan)
    for i, (a, o, _) in enumerate(clips):
        animal[i, : len(a)], obj[i, : len(o)] = a, o
    batch = dsr_scores(
        animal,
        obj,
        [t.initial for _, _, t in clips],
        [t.final for _, _, t in clips],
        m=m,
        min_frames=min_frames,
    )
    for i, (a, o, t) in enumerate(clips):
        ref = reference_score(
            a.tolist(), o.tolist(), t.initial.value, t.final.value, m=m, min_frames=min_frames
        )
        assert (bool(batch.valid[i]), int(batch.n_frames[i])) == (ref.valid, ref.n_frames)
        got = [batch.score[i], batch.r_init[i], batch.r_final[i], batch.g_init[i], batch.g_final[i]]
        want = [ref.score, ref.r_init, ref.r_final, ref.g_init, ref.g_final]
        if ref.valid:
            assert got == _approx(want)
        else:
            assert np.isnan(batch.score[i])
        assert _nan_to_none(batch.ssr_initial[i]) == _approx(ref.ssr_initial) + [None] * (
            length - len(a)
        )
        assert _nan_to_none(batch.ssr_final[i]) == _approx(ref.ssr_final) + [None] * (
            length - len(a)
        )


def test_the_reference_gives_the_worked_check_of_the_spec() -> None:
    animal, obj = [[0, 0, 10, 10]] * 40, [[20, 0, 30, 10]] * 20 + [[-20, 0, -10, 10]] * 20
    assert reference_score(animal, obj, "left", "right").score == 1.0
    assert reference_score(animal, obj, "right", "left").score == 0.0
    assert reference_score(animal[:19], obj[:19], "left", "right").valid is False
