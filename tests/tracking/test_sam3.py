from __future__ import annotations

import json

import numpy as np
import pytest

from dsr.errors import ConfigError
from dsr.scoring import FrameClass, classify_frames
from dsr.tracking import TRACKERS
from dsr.tracking.grounding import detections_to_labels
from dsr.tracking.sam3 import Instance, Sam3Config, Sam3Tracker, frame_class, select_boxes


@pytest.mark.parametrize(
    ("n_animal", "n_object", "expected"),
    [
        (1, 1, FrameClass.VALID),
        (0, 1, FrameClass.MISS),
        (1, 0, FrameClass.MISS),
        (0, 0, FrameClass.MISS),
        (2, 1, FrameClass.REDUNDANT),
        (1, 2, FrameClass.REDUNDANT),
        (2, 0, FrameClass.REDUNDANT),
        (0, 2, FrameClass.REDUNDANT),
    ],
)
def test_frame_class_agrees_with_the_detector_label_rule(
    n_animal: int, n_object: int, expected: FrameClass
) -> None:
    assert frame_class(n_animal, n_object) is expected
    labels = ["cat"] * n_animal + ["bench"] * n_object
    assert classify_frames([labels], "cat", "bench").frame_classes[0] is expected


def test_select_boxes_prefers_the_key_frame_track_then_the_score() -> None:
    a1, a2, a3 = (
        Instance(1, 0.9, (0, 0, 1, 1)),
        Instance(2, 0.95, (5, 5, 6, 6)),
        Instance(3, 0.99, (7, 7, 8, 8)),
    )
    frames = [
        {"animal": [a1], "object": []},
        {"animal": [a1, a2], "object": []},
        {"animal": [a2, a3], "object": []},
        {"animal": [], "object": []},
    ]
    boxes, chosen = select_boxes(frames, "animal", key_frame=0)
    np.testing.assert_array_equal(boxes[:3], [a1.box, a1.box, a3.box])
    assert np.isnan(boxes[3]).all() and chosen == [1, 2]


def test_config_validation() -> None:
    with pytest.raises(ConfigError):
        Sam3Config(score_threshold=1.5)
    with pytest.raises(ConfigError):
        Sam3Config(dtype="half")


def test_registry_resolves_the_tracker() -> None:
    assert TRACKERS.resolve("sam3") is Sam3Tracker


def test_tiny_sam3_tracks_one_instance_of_each_noun(
    tiny_sam3, moving_squares, prompt, short_validity
) -> None:
    tracker = Sam3Tracker(model=str(tiny_sam3), validity=short_validity)
    result = tracker.track(moving_squares(6), prompt)
    # the tiny checkpoint has one query per prompt and no thresholds: one instance
    # per noun per frame
    assert result.validity.valid and result.validity.key_frame == 0
    assert result.validity.frame_class_names == ["valid"] * 6
    assert result.animal_boxes.shape == result.object_boxes.shape == (6, 4)
    assert np.isfinite(result.animal_boxes).all()
    assert ((result.animal_boxes >= 0) & (result.animal_boxes <= 63)).all()
    # the recorded detections re-derive the same validity through the detector rule
    again = classify_frames(detections_to_labels(result.detections), "cat", "bench", short_validity)
    assert again.frame_classes == result.validity.frame_classes
    settings = tracker.settings()
    json.dumps(settings)
    assert settings["model"] == str(tiny_sam3) and settings["tracker"] == "sam3"


def test_score_threshold_one_finds_nothing(
    tiny_sam3, moving_squares, prompt, short_validity
) -> None:
    result = Sam3Tracker(
        model=str(tiny_sam3), validity=short_validity, score_threshold=1.0, new_det_threshold=1.0
    ).track(moving_squares(4), prompt)
    assert result.validity.reason == "too_few_valid"
    assert set(result.validity.frame_class_names) == {"miss"}
    assert np.isnan(result.animal_boxes).all()


def test_thresholds_of_one_tracker_do_not_leak_into_another_sharing_the_model(tiny_sam3) -> None:
    from dsr.tracking.sam3 import Sam3Tracker

    custom, default = (
        Sam3Tracker(model=str(tiny_sam3), score_threshold=0.3),
        Sam3Tracker(model=str(tiny_sam3)),
    )
    model = default._load()[0]
    assert custom._load()[0] is model
    checkpoint = (model.config.score_threshold_detection, model.config.new_det_thresh)
    custom._apply_thresholds(model)
    assert model.score_threshold_detection == 0.3
    default._apply_thresholds(model)
    assert (model.score_threshold_detection, model.new_det_thresh) == checkpoint
