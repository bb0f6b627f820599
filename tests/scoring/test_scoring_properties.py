"""Property tests of the DSR-Score (hypothesis): range, invariances, mirroring, unusable frames,
batch == per-video, and agreement with a plain per-frame Python reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dsr.prompts import DSRType, Relation
from dsr.scoring import DSRScore, dsr_score, dsr_scores, ssr_score

COMPONENTS = ("score", "r_init", "r_final", "g_init", "g_final")
MIRROR = {Relation.LEFT: Relation.RIGHT, Relation.RIGHT: Relation.LEFT, Relation.TOP: Relation.TOP}

_coord = st.floats(-300, 300, allow_nan=False, allow_infinity=False)
_size = st.floats(1, 100, allow_nan=False, allow_infinity=False)


def _boxes_from(corner: np.ndarray, size: np.ndarray) -> np.ndarray:
    return np.concatenate([corner, corner + size], axis=-1)


@st.composite
def videos(draw: st.DrawFn, min_frames: int = 20, max_frames: int = 40) -> tuple[np.ndarray, np.ndarray]:
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


def _reference(animal: np.ndarray, obj: np.ndarray, initial: Relation, final: Relation, m: int = 3) -> float | None:
    """The DSR-Score as a straightforward per-frame Python loop over ssr_score."""
    r_i, r_f = [], []
    for a, o in zip(animal.tolist(), obj.tolist(), strict=True):
        try:
            r_i.append(ssr_score(a, o, initial))
            r_f.append(ssr_score(a, o, final))
        except ValueError:
            continue
    if len(r_i) < 20:
        return None
    r_init, r_final = sum(r_i[:m]) / m, sum(r_f[-m:]) / m
    g_init, g_final = (r_i[0] - r_i[-1]) / 2, (r_f[-1] - r_f[0]) / 2
    return (r_init + r_final + g_init + g_final) / 8 + 0.5


@settings(max_examples=100, deadline=None)
@given(video=videos(min_frames=0), dsr_type=_types)
def test_score_lies_in_unit_interval_and_ssr_in_minus_one_one(video: tuple, dsr_type: DSRType) -> None:
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
def test_mirroring_the_scene_swaps_left_and_right(video: tuple, dsr_type: DSRType, width: float) -> None:
    animal, obj = video
    base = dsr_score(animal, obj, dsr_type.initial, dsr_type.final)
    mirrored = dsr_score(
        _mirror(animal, width), _mirror(obj, width), MIRROR[dsr_type.initial], MIRROR[dsr_type.final]
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
    inserts=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, len(_UNUSABLE) - 1)), max_size=15),
)
def test_inserting_unusable_frames_changes_nothing(video: tuple, dsr_type: DSRType, inserts: list) -> None:
    animal, obj = (list(map(list, b)) for b in video)
    base = dsr_score(animal, obj, dsr_type.initial, dsr_type.final)
    for position, kind in inserts:
        at = position % (len(animal) + 1)
        which, box = _UNUSABLE[kind]
        good = [1.0, 1.0, 3.0, 3.0]
        animal.insert(at, box if which == "animal" else good)
        obj.insert(at, box if which == "object" else good)
    _same(dsr_score(animal, obj, dsr_type.initial, dsr_type.final), base, tol=1e-12)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n_videos=st.integers(1, 5))
def test_batch_equals_per_video(data: st.DataObject, n_videos: int) -> None:
    clips = [data.draw(videos(min_frames=0, max_frames=30)) for _ in range(n_videos)]
    types = [data.draw(_types) for _ in range(n_videos)]
    length = max(len(a) for a, _ in clips)
    animal = np.full((n_videos, length, 4), np.nan)
    obj = np.full((n_videos, length, 4), np.nan)
    for i, (a, o) in enumerate(clips):
        animal[i, : len(a)], obj[i, : len(o)] = a, o
    batch = dsr_scores(animal, obj, [t.initial for t in types], [t.final for t in types])
    for i, ((a, o), t) in enumerate(zip(clips, types, strict=True)):
        _same(batch.item(i), dsr_score(a, o, t.initial, t.final), tol=1e-12)


@settings(max_examples=100, deadline=None)
@given(video=videos(min_frames=15), dsr_type=_types, drop=st.sets(st.integers(0, 39), max_size=8))
def test_vectorized_equals_plain_python_reference(video: tuple, dsr_type: DSRType, drop: set) -> None:
    animal = video[0].copy()
    animal[[i for i in drop if i < len(animal)]] = np.nan
    result = dsr_score(animal, video[1], dsr_type.initial, dsr_type.final)
    expected = _reference(animal, video[1], dsr_type.initial, dsr_type.final)
    if expected is None:
        assert result.score is None
    else:
        assert result.score == pytest.approx(expected, abs=1e-12)
