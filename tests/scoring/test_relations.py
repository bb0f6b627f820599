"""Per-frame scores of under, front and behind, and the DSR-Score of the new types, against values
worked out by hand (docs/method.md §8)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dsr.prompts import DSRType, Relation, all_relations
from dsr.scoring import dsr_score
from dsr.scoring.relations import (
    FRAME_SCORES,
    DepthInputs,
    FrameInputs,
    TracksLike,
    frame_scores,
)
from dsr.scoring.tracks import score_rows

OBJECT = [20.0, 20.0, 30.0, 30.0]  # centre (25, 25), 10 × 10
LEFT_OF = [0.0, 20.0, 10.0, 30.0]  # centre (5, 25)
ABOVE = [20.0, 0.0, 30.0, 10.0]  # centre (25, 5)
BELOW = [20.0, 40.0, 30.0, 50.0]  # centre (25, 45)
RIGHT_OF = [40.0, 20.0, 50.0, 30.0]  # centre (45, 25)


def _one(animal: list[float], obj: list[float], relation: str, **depth: list[float]) -> float:
    tracks = TracksLike([animal], [obj], **depth)
    return float(frame_scores(relation, tracks.inputs())[0])


def test_every_registered_relation_has_a_frame_score() -> None:
    assert set(FRAME_SCORES) == set(all_relations())


@pytest.mark.parametrize(
    ("animal", "obj", "expected"),
    [
        (BELOW, OBJECT, 1.0),  # straight below, far beyond 0.1 · 10 px
        (ABOVE, OBJECT, -1.0),  # straight above: the opposite
        (LEFT_OF, OBJECT, 0.0),  # level with it: cos = 0
        ([0.0, 0.5, 10.0, 10.5], [0.0, 0.0, 10.0, 10.0], 0.5),  # 0.5 px below, scale 1 px
        # centre (14, 15) vs (10, 10): cos = 5 / √41, |v_y| = 5 ≥ min(0.4, 2.0): d = 1
        ([12.0, 13.0, 16.0, 17.0], [0.0, 0.0, 20.0, 20.0], 5 / math.sqrt(41)),
        # the smaller box sets the scale: 0.1 · min(2, 20) = 0.2 px, offset 0.1 px → d = 0.5
        ([9.0, 9.1, 11.0, 11.1], [0.0, 0.0, 20.0, 20.0], 0.5),
    ],
)
def test_under_is_the_authors_vertical_score_normalised_by_a_tenth_of_the_smaller_height(
    animal: list[float], obj: list[float], expected: float
) -> None:
    assert _one(animal, obj, "under") == pytest.approx(expected, abs=1e-12)


def test_under_is_nan_where_a_box_is_missing() -> None:
    tracks = TracksLike([BELOW, None], [OBJECT, OBJECT])
    scores = frame_scores("under", tracks.inputs())
    assert scores[0] == 1.0 and math.isnan(scores[1])


@pytest.mark.parametrize(
    ("animal_depth", "object_depth", "occlusion", "front"),
    [
        (0.2, 0.35, 0.0, 1.0),  # 0.15 nearer, beyond the 0.1 margin
        (0.30, 0.35, 0.0, 0.5),  # 0.05 nearer: half the margin
        (0.50, 0.45, 0.0, -0.5),  # 0.05 farther
        (0.4, 0.4, 0.0, 0.0),  # same depth: undecided
        (0.9, 0.1, 1.0, 1.0),  # the animal occludes the object: in front, whatever depth says
        (0.1, 0.9, -1.0, -1.0),  # the object occludes the animal: behind it
        (math.nan, 0.5, 1.0, 1.0),  # occlusion alone decides
    ],
)
def test_front_is_the_clipped_depth_difference_overridden_by_occlusion(
    animal_depth: float, object_depth: float, occlusion: float, front: float
) -> None:
    depth = {
        "animal_depth": [animal_depth],
        "object_depth": [object_depth],
        "occlusion": [occlusion],
    }
    assert _one(LEFT_OF, OBJECT, "front", **depth) == pytest.approx(front, abs=1e-12)
    assert _one(LEFT_OF, OBJECT, "behind", **depth) == pytest.approx(-front, abs=1e-12)


def test_front_without_depth_or_occlusion_is_nan() -> None:
    tracks = TracksLike([OBJECT] * 3, [OBJECT] * 3, [None, 0.2, 0.2], [0.5, 0.5, 0.5], None)
    scores = frame_scores(Relation.FRONT, tracks.inputs())
    assert math.isnan(scores[0]) and scores[1] == 1.0 and scores[2] == 1.0
    no_depth = FrameInputs(np.array([OBJECT]), np.array([OBJECT]))
    assert np.isnan(frame_scores("front", no_depth)).all()


def test_depth_margin_sets_the_scale() -> None:
    tracks = TracksLike([OBJECT], [OBJECT], [0.3], [0.35])
    assert frame_scores("front", tracks.inputs(depth_margin=0.2))[0] == pytest.approx(0.25)


def _front_then_behind(n: int = 40) -> TracksLike:
    half = n // 2
    return TracksLike(
        [LEFT_OF] * n,
        [OBJECT] * n,
        animal_depth=[0.2] * half + [0.8] * (n - half),
        object_depth=[0.5] * n,
    )


def test_front_to_behind_scores_one_and_the_reverse_zero() -> None:
    tracks = _front_then_behind()
    animal, obj = tracks.boxes()
    depth = tracks.depth()
    assert dsr_score(animal, obj, "front", "behind", depth=depth).score == 1.0
    assert dsr_score(animal, obj, "behind", "front", depth=depth).score == 0.0


def test_frames_without_depth_evidence_do_not_count_for_depth_types() -> None:
    tracks = _front_then_behind()
    depth = tracks.depth()
    assert depth is not None
    holes = DepthInputs(depth.animal_depth.copy(), depth.object_depth, depth.occlusion)
    holes.animal_depth[:5] = np.nan
    animal, obj = tracks.boxes()
    result = dsr_score(animal, obj, "front", "behind", depth=holes)
    assert (result.n_frames, result.score) == (35, 1.0)
    # left → right reads only boxes: the same frames all count
    assert dsr_score(animal, obj, "left", "right", depth=holes).n_frames == 40


def test_a_depth_type_without_depth_inputs_is_invalid_for_that_reason() -> None:
    animal, obj = _front_then_behind().boxes()
    result = dsr_score(animal, obj, "left", "front")
    assert (result.valid, result.reason, result.score) == (False, "no_depth", None)
    assert dsr_score(animal, obj, "left", "right").valid  # a box type needs none


def test_left_to_front_mixes_box_and_depth_scores() -> None:
    # first half: left of the object at equal depth; second half: centred on it and nearer
    n = 40
    tracks = TracksLike(
        [LEFT_OF] * 20 + [OBJECT] * 20,
        [OBJECT] * n,
        animal_depth=[0.5] * 20 + [0.2] * 20,
        object_depth=[0.5] * n,
    )
    animal, obj = tracks.boxes()
    result = dsr_score(animal, obj, "left", "front", depth=tracks.depth())
    # r_init = 1, g_init = (1 − 0)/2, r_f = 1, g_f = (1 − 0)/2
    assert (result.r_init, result.g_init, result.r_final, result.g_final) == (1.0, 0.5, 1.0, 0.5)
    assert result.score == pytest.approx((1 + 0.5 + 1 + 0.5) / 8 + 0.5)


def test_under_to_top_video() -> None:
    animal = [BELOW] * 20 + [ABOVE] * 20
    result = dsr_score(animal, [OBJECT] * 40, "under", "top")
    # under: 1 … 1, −1 … −1; top: −1 … −1, 1 … 1
    assert result.score == 1.0
    assert dsr_score(animal, [OBJECT] * 40, "top", "under").score == 0.0


def _three_stage() -> list[list[float]]:
    return [LEFT_OF] * 10 + [ABOVE] * 10 + [RIGHT_OF] * 10


def test_three_stage_score_is_the_lower_part_at_the_best_cut() -> None:
    result = dsr_score(_three_stage(), [OBJECT] * 30, "left", "right", middle="top")
    # Cuts at frames 12..17 tie (the first, 12, is taken); at 12: left → top over
    # frames 0..12: r_init 1, r_f 1 (frames 10..12 on top), g_init (1 − 0)/2, g_f (1 − 0)/2 →
    # 0.875; top → right over 12..29: r_init 1, r_f 1, g_init 0.5, g_f 0.5 → 0.875.
    assert result.score == pytest.approx(0.875)
    assert result.stage_scores == pytest.approx((0.875, 0.875))
    assert result.stage_split == 12
    assert set(result.to_dict()) >= {"stage_scores", "stage_split"}


def test_three_stage_that_skips_its_middle_fails() -> None:
    animal = [LEFT_OF] * 15 + [RIGHT_OF] * 15  # never on top
    result = dsr_score(animal, [OBJECT] * 30, "left", "right", middle="top")
    assert result.score is not None and result.score < 0.7
    assert dsr_score(animal, [OBJECT] * 30, "left", "right").score == 1.0


def test_two_stage_results_carry_no_stage_fields() -> None:
    result = dsr_score(_three_stage(), [OBJECT] * 30, "left", "right")
    assert result.stage_split is None and "stage_split" not in result.to_dict()


def test_new_types_need_depth_only_with_front_or_behind() -> None:
    assert DSRType.coerce("LF").needs_depth and DSRType.coerce("BU").needs_depth
    assert not DSRType.coerce("UL").needs_depth and not DSRType.LT.needs_depth


def test_tracks_rows_read_the_depth_columns_and_a_middle_relation() -> None:
    tracks = _front_then_behind()
    row = {
        "sample_id": "s0",
        "animal_boxes": [LEFT_OF] * 40,
        "object_boxes": [OBJECT] * 40,
        "initial": "front",
        "final": "behind",
        "animal_depth": [None] * 5 + list(tracks.animal_depth or [])[5:],
        "object_depth": list(tracks.object_depth or []),
        "occlusion": [1] * 5 + [0] * 35,  # occlusion alone decides the first five frames
    }
    staged = {
        "sample_id": "s1",
        "prompt": "A cat is on the left of a box, then the cat hops to the top of the box, then "
        "to the right of the box.",
        "animal_boxes": _three_stage(),
        "object_boxes": [OBJECT] * 30,
    }
    no_depth = {k: v for k, v in row.items() if k not in ("animal_depth", "object_depth")}
    report = score_rows(enumerate([row, staged, no_depth], start=1))
    first, second = report.rows
    assert (first["dsr_score"], first["n_frames"]) == (1.0, 40)
    assert (second["middle"], second["dsr_score"]) == ("top", pytest.approx(0.875))
    assert len(report.errors) == 1 and "row 3" in report.errors[0]
    assert "animal_depth" in report.errors[0]
