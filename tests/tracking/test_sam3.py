from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dsr.errors import ConfigError
from dsr.prompts import DSRPrompt
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


@pytest.fixture(scope="module")
def tiny_depth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dsr.tracking.tiny import save_tiny_depth_anything

    return save_tiny_depth_anything(tmp_path_factory.mktemp("depth-anything"))


class _Spy:
    """Wraps a depth source and records every distance map it gives."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.maps: list[np.ndarray] = []

    def settings(self) -> dict[str, Any]:
        return dict(self.inner.settings())

    def distance(self, frames: np.ndarray) -> np.ndarray:
        self.maps.append(np.asarray(self.inner.distance(frames)))
        return self.maps[-1]


def test_sam3_gives_depth_only_to_prompts_placed_in_depth(
    tiny_sam3, tiny_depth, moving_squares, prompt, short_validity
) -> None:
    frames = moving_squares(4)
    behind = DSRPrompt(
        scene="", animal="cat", object="bench", initial="front", final="behind", verb="walks"
    )
    tracker = Sam3Tracker(
        model=str(tiny_sam3),
        validity=short_validity,
        depth_model=str(tiny_depth),
        depth_batch_size=3,
        device="cpu",
    )
    spy = _Spy(tracker.depth)
    tracker.depth = spy  # type: ignore[assignment]
    result = tracker.track(frames, behind)
    assert len(spy.maps) == 1 and spy.maps[0].shape == frames.shape[:3]
    assert result.depth is not None
    columns = result.depth.columns()
    assert set(columns) == {"animal_depth", "object_depth", "occlusion"}
    # reference: the frame's distance rescaled to [0, 1]; a median over a mask lies between the
    # extremes of that map over the mask's box
    d = spy.maps[0]
    lo, hi = d.min(axis=(1, 2), keepdims=True), d.max(axis=(1, 2), keepdims=True)
    rel = (d - lo) / (hi - lo)
    for name, boxes in (
        ("animal_depth", result.animal_boxes),
        ("object_depth", result.object_boxes),
    ):
        seen = np.isfinite(boxes).all(axis=1)
        assert seen.any()
        assert [v is not None for v in columns[name]] == seen.tolist()
        for t in np.flatnonzero(seen):
            x1, y1, x2, y2 = boxes[t].astype(int)
            inside = rel[t, y1 : y2 + 1, x1 : x2 + 1]
            assert inside.min() - 1e-5 <= columns[name][t] <= inside.max() + 1e-5
    settings = tracker.settings()
    json.dumps(settings)
    assert settings["depth_model"] == str(tiny_depth) and settings["depth_source"] == "model"
    assert settings["depth_settings"]["batch_size"] == 3

    spy.maps.clear()
    plain = tracker.track(frames, prompt)  # left -> right: no depth, no depth model run
    assert plain.depth is None and spy.maps == []
    np.testing.assert_array_equal(plain.animal_boxes, result.animal_boxes)
