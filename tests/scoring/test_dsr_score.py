"""DSR-Score of a video (docs/method.md §4): hand-worked values, usable frames, validity, batch
form."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from dsr.errors import ConfigError
from dsr.scoring import DSRScore, dsr_score, dsr_scores

OBJECT = [100.0, 100.0, 120.0, 120.0]  # 20×20, centre (110, 110)


def _animal_at(dx: float, dy: float = 0.0) -> list[float]:
    """A 20×20 animal box whose centre is offset (dx, dy) from the object's centre."""
    return [100.0 + dx, 100.0 + dy, 120.0 + dx, 120.0 + dy]


def _video(offsets: list[tuple[float, float]]) -> tuple[list[list[float]], list[list[float]]]:
    return [_animal_at(dx, dy) for dx, dy in offsets], [OBJECT] * len(offsets)


def _left_then_right(n: int = 40) -> tuple[list[list[float]], list[list[float]]]:
    """The worked video of docs/method.md §4: LEFT for the first half, RIGHT for the second."""
    return [[0, 0, 10, 10]] * n, [[20, 0, 30, 10]] * (n // 2) + [[-20, 0, -10, 10]] * (n - n // 2)


def test_worked_check_left_then_right() -> None:
    animal, obj = _left_then_right()
    result = dsr_score(animal, obj, "left", "right")
    assert result.score == 1.0 and result.valid and result.reason is None
    assert (result.r_init, result.r_final, result.g_init, result.g_final) == (1.0, 1.0, 1.0, 1.0)
    assert result.n_frames == 40
    assert dsr_score(animal, obj, "right", "left").score == 0.0


def test_hand_worked_components() -> None:
    # r(left) = −dx/20 here (same height, mean width 20): 0.9, 0.8, 0.7, 0 ×14, −0.2, −0.4, −0.6
    dxs = [-18, -16, -14] + [0] * 14 + [4, 8, 12]
    animal, obj = _video([(dx, 0) for dx in dxs])
    result = dsr_score(animal, obj, "left", "right")
    assert result.r_init == pytest.approx(0.8)  # mean(0.9, 0.8, 0.7)
    assert result.r_final == pytest.approx(0.4)  # mean(0.2, 0.4, 0.6) of r(right)
    assert result.g_init == pytest.approx(0.75)  # (0.9 − (−0.6)) / 2
    assert result.g_final == pytest.approx(0.75)  # (0.6 − (−0.9)) / 2
    assert result.score == pytest.approx((0.8 + 0.4 + 0.75 + 0.75) / 8 + 0.5)  # 0.8375
    assert result.ssr_initial[:3] == pytest.approx((0.9, 0.8, 0.7))
    assert result.ssr_final[-1] == pytest.approx(0.6)


def test_vertical_type_uses_heights() -> None:
    # A 20×40 object and a 20×20 animal: first 15 px above the object's centre (mean height 30 →
    # r(top) = 0.5; the mean width would give 0.75), then 40 px to its left (r(left) = 1).
    obj = [[100, 100, 120, 140]] * 20
    animal = [[100, 95, 120, 115]] * 10 + [[60, 110, 80, 130]] * 10
    result = dsr_score(animal, obj, "top", "left")
    assert (result.r_init, result.r_final) == pytest.approx((0.5, 1.0))
    assert (result.g_init, result.g_final) == pytest.approx((0.25, 0.5))
    assert result.score == pytest.approx(2.25 / 8 + 0.5)


def test_m_counts_the_first_and_last_usable_frames() -> None:
    dxs = [-18, -16, -14] + [0] * 14 + [4, 8, 12]
    animal, obj = _video([(dx, 0) for dx in dxs])
    reference = dsr_score(animal, obj, "left", "right")
    unusable = [None, [np.nan] * 4, [5, 5, 5, 9], [5, 5, 9, 5]]  # absent, NaN, zero w, zero h
    padded_a = unusable + animal[:2] + [None] + animal[2:] + unusable
    padded_o = [OBJECT] * 4 + obj[:2] + [OBJECT] + obj[2:] + [OBJECT] * 4
    result = dsr_score(padded_a, padded_o, "left", "right")
    assert result.n_frames == 20
    for name in ("score", "r_init", "r_final", "g_init", "g_final"):
        assert getattr(result, name) == pytest.approx(getattr(reference, name), abs=1e-15)
    assert len(result.ssr_initial) == len(padded_a)
    assert np.isnan(result.ssr_initial[:4]).all() and np.isnan(result.ssr_final[6])
    # also when the object is the missing one
    result = dsr_score(padded_o, padded_a, "right", "left")
    assert result.n_frames == 20


def test_m_and_min_frames_can_be_overridden() -> None:
    dxs = [-18, -16, -14] + [0] * 14 + [4, 8, 12]
    animal, obj = _video([(dx, 0) for dx in dxs])
    assert dsr_score(animal, obj, "left", "right", m=1).r_init == pytest.approx(0.9)
    assert dsr_score(animal, obj, "left", "right", m=2).r_final == pytest.approx(0.5)
    assert not dsr_score(animal, obj, "left", "right", min_frames=21).valid
    with pytest.raises(ConfigError, match="m=0"):
        dsr_score(animal, obj, "left", "right", m=0)
    with pytest.raises(ConfigError, match="min_frames=0"):
        dsr_score(animal, obj, "left", "right", min_frames=0)


@pytest.mark.parametrize(("usable", "valid"), [(19, False), (20, True)])
def test_too_few_usable_frames_edge(usable: int, valid: bool) -> None:
    animal, obj = _left_then_right(usable)
    animal = animal + [None] * 6  # 6 more frames, all unusable
    obj = obj + [[20, 0, 30, 10]] * 6
    result = dsr_score(animal, obj, "left", "right")
    assert result.valid is valid and result.n_frames == usable
    if valid:
        assert result.score == 1.0 and result.reason is None
    else:
        assert result.reason == "too_few_frames"
        assert (result.score, result.r_init, result.r_final, result.g_init, result.g_final) == (
            None,
            None,
            None,
            None,
            None,
        )


def test_empty_video_is_invalid() -> None:
    result = dsr_score([], [], "left", "top")
    assert not result.valid and result.n_frames == 0 and result.ssr_initial == ()


def test_track_length_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="40 vs 39"):
        dsr_score(*(_left_then_right()[0], _left_then_right()[1][:-1]), "left", "right")


def test_result_is_frozen_and_serializes_with_nulls() -> None:
    animal, obj = _left_then_right()
    result = dsr_score(animal[:-1] + [None], obj, "left", "right")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.score = 0.5
    data = result.to_dict()
    assert data["ssr_initial"][-1] is None and data["ssr_initial"][0] == 1.0
    assert json.loads(json.dumps(data))["score"] == result.score


def test_numpy_input_and_integer_boxes() -> None:
    animal, obj = _left_then_right()
    result = dsr_score(np.asarray(animal, dtype=np.int32), np.asarray(obj), "LEFT", "Right")
    assert isinstance(result, DSRScore) and result.score == 1.0


def test_batch_matches_single_videos_with_padding_and_broadcast_relation() -> None:
    a1, o1 = _left_then_right(40)
    a2, o2 = _left_then_right(24)
    animal = np.full((3, 40, 4), np.nan)
    obj = np.full((3, 40, 4), np.nan)
    animal[0], obj[0] = a1, o1
    animal[1, :24], obj[1, :24] = a2, o2
    animal[2, :10], obj[2, :10] = a2[:10], o2[:10]
    batch = dsr_scores(animal, obj, "left", ["right", "left", "right"])
    assert len(batch) == 3
    assert batch.valid.tolist() == [True, True, False] and batch.n_frames.tolist() == [40, 24, 10]
    # video 1 scored left→left: R = +1 for 12 frames, then −1 for 12 (the object moved to the left),
    # so r_init = 1, r_f = −1, g_init = (1 − (−1)) / 2 = 1, g_f = (−1 − 1) / 2 = −1: (1 − 1 +
    # 1 − 1) / 8 + 0.5
    assert batch.score[:2].tolist() == [1.0, 0.5] and np.isnan(batch.score[2])
    assert (batch.r_init[1], batch.r_final[1], batch.g_init[1], batch.g_final[1]) == (
        1.0,
        -1.0,
        1.0,
        -1.0,
    )
    assert [(s.score, s.reason) for s in batch.to_list()] == [
        (1.0, None),
        (0.5, None),
        (None, "too_few_frames"),
    ]
    assert np.isnan(batch.ssr_initial[1, 24:]).all()  # the padding is unusable


def test_batch_checks_shapes_and_relation_counts() -> None:
    boxes = np.zeros((2, 20, 4))
    with pytest.raises(ValueError, match="equal shape"):
        dsr_scores(boxes, boxes[:, :10], "left", "right")
    with pytest.raises(ValueError, match="equal shape"):
        dsr_scores(boxes[0], boxes[0], "left", "right")
    with pytest.raises(ValueError, match="one relation per video: got 3 for 2"):
        dsr_scores(boxes, boxes, ["left"] * 3, "right")


def test_degenerate_boxes_are_counted_apart_from_absent_ones() -> None:
    nan = float("nan")
    animal = [
        [0, 0, 10, 10],
        [5, 0, 5, 10],
        [9, 0, 2, 10],
        [0, 4, 10, 4],
        None,
        [nan, 0, 10, 10],
        [0, 0, 10, 10],
    ]
    obj = [
        [20, 0, 30, 10],
        [20, 0, 30, 10],
        [20, 0, 30, 10],
        [20, 0, 30, 10],
        [20, 0, 30, 10],
        [20, 0, 30, 10],
        [20, 0, 20, 10],
    ]
    # frames 1-3 (zero width, negative width, zero height), 5 (NaN in a given box), 6 (object's zero
    # width) are degenerate; frame 4 is absent, frame 0 is usable
    one = dsr_score(animal, obj, "left", "right", min_frames=1)
    assert (one.n_degenerate_frames, one.n_frames) == (5, 1)
    boxes = np.array([[b if b is not None else [nan] * 4 for b in animal]] * 2, dtype=float)
    boxes[1, 1:4] = [0, 0, 10, 10]  # the second video has three of them mended
    batch = dsr_scores(boxes, np.array([obj, obj], dtype=float), "left", "right", min_frames=1)
    assert [s.n_degenerate_frames for s in batch.to_list()] == [5, 2]
