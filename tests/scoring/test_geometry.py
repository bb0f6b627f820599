"""SSR score of one frame (docs/method.md §4), hand-worked."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dsr.prompts import Relation
from dsr.scoring import ssr_score, ssr_scores, usable_mask
from dsr.scoring.geometry import as_boxes

ANIMAL = [0, 0, 10, 10]
OBJECT = [20, 0, 30, 10]


def test_worked_check_of_the_spec() -> None:
    assert ssr_score(ANIMAL, OBJECT, "left") == 1.0
    assert ssr_score(ANIMAL, OBJECT, "right") == -1.0
    assert ssr_score(ANIMAL, OBJECT, "top") == 0.0


@pytest.mark.parametrize("relation", [Relation.LEFT, "left", "LEFT", " Left"])
def test_relation_given_as_enum_or_name(relation: object) -> None:
    assert ssr_score(ANIMAL, OBJECT, relation) == 1.0


def test_vertical_case_is_normalized_by_mean_height() -> None:
    # centres (5, 5) and (5, 19): v = (0, -14); heights 10 and 30 → mean 20 → d = 0.7.
    # Normalizing by the mean width (10) would clip d to 1.
    animal, obj = [0, 0, 10, 10], [0, 4, 10, 34]
    assert ssr_score(animal, obj, "top") == pytest.approx(0.7)
    assert ssr_score(animal, obj, "left") == 0.0
    assert ssr_score(obj, animal, "top") == pytest.approx(-0.7)  # below is negative "top"


def test_horizontal_case_is_normalized_by_mean_width() -> None:
    # centres (10, 5) and (16, 5): v = (-6, 0); widths 20 and 4 → mean 12 → d = 0.5.
    animal, obj = [0, 0, 20, 10], [14, 0, 18, 10]
    assert ssr_score(animal, obj, "left") == pytest.approx(0.5)
    assert ssr_score(animal, obj, "right") == pytest.approx(-0.5)


def test_diagonal_offset_multiplies_cosine_and_distance() -> None:
    # v = (-3, -4), |v| = 5; all boxes 10×10 → d_x = 0.3, d_y = 0.4.
    animal, obj = [17, 16, 27, 26], [20, 20, 30, 30]
    assert ssr_score(animal, obj, "left") == pytest.approx(0.6 * 0.3)
    assert ssr_score(animal, obj, "right") == pytest.approx(-0.6 * 0.3)
    assert ssr_score(animal, obj, "top") == pytest.approx(0.8 * 0.4)


def test_coincident_centres_score_zero_and_never_negative_zero() -> None:
    for rel in Relation:
        value = ssr_score([5, 5, 15, 15], [0, 0, 20, 20], rel)
        assert value == 0.0 and math.copysign(1.0, value) == 1.0


def test_distance_is_clipped_to_one() -> None:
    assert ssr_score([0, 0, 10, 10], [1000, 0, 1010, 10], "left") == 1.0
    assert ssr_score([0, 0, 10, 10], [0, 1000, 10, 1010], "top") == 1.0


@pytest.mark.parametrize(
    "animal",
    [None, [np.nan, 0, 10, 10], [0, 0, np.inf, 10], [0, 0, 0, 10], [0, 5, 10, 5], [10, 0, 0, 10]],
)
def test_unusable_frame_raises_value_error(animal: object) -> None:
    with pytest.raises(ValueError, match="unusable frame"):
        ssr_score(animal, OBJECT, "left")
    with pytest.raises(ValueError, match="unusable frame"):
        ssr_score(OBJECT, animal, "left")


def test_bad_box_shape_raises() -> None:
    with pytest.raises(ValueError, match="xyxy"):
        ssr_score([0, 0, 10, 10, 1], OBJECT, "left")


def test_vectorized_scores_match_single_frames_and_mark_unusable_with_nan() -> None:
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, (50, 2, 2))
    size = rng.uniform(1, 40, (50, 2, 2))
    animal = np.concatenate([xy[:, 0], xy[:, 0] + size[:, 0]], axis=1)
    obj = np.concatenate([xy[:, 1], xy[:, 1] + size[:, 1]], axis=1)
    animal[7] = np.nan
    obj[9, 2] = obj[9, 0]
    for rel in Relation:
        out = ssr_scores(animal, obj, rel)
        assert out.shape == (50,)
        assert np.isnan(out[[7, 9]]).all()
        for i in set(range(50)) - {7, 9}:
            assert out[i] == pytest.approx(ssr_score(animal[i], obj[i], rel), abs=1e-12)


def test_as_boxes_and_usable_mask() -> None:
    boxes = as_boxes([[0, 0, 1, 1], None, [0, 0, None, 1]])
    assert boxes.shape == (3, 4) and np.isnan(boxes[1]).all() and np.isnan(boxes[2, 2])
    assert usable_mask(boxes, np.tile([0.0, 0, 2, 2], (3, 1))).tolist() == [True, False, False]
    assert as_boxes([]).shape == (0, 4)
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        as_boxes(np.zeros((3, 5)))
