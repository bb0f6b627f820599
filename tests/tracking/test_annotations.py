"""The annotations tracker: frame classes from emitted detections, true boxes, clear failures."""

from __future__ import annotations

import numpy as np

from dsr.generation.base import Annotations
from dsr.generation.synthetic import SyntheticGenerator
from dsr.prompts import parse_prompt
from dsr.tracking import Tracker
from dsr.tracking.annotations import AnnotationTracker

PROMPT = parse_prompt("A dog is on the left of a bench, then the dog runs to the top of the bench.")


def test_is_a_tracker_with_settings() -> None:
    tracker = AnnotationTracker(min_valid=10)
    assert isinstance(tracker, Tracker)
    assert tracker.settings() == {
        "tracker": "annotations",
        "max_redundant": 16,
        "min_valid": 10,
        "min_run": 4,
        "label_match": "normalized",
    }


def test_second_animal_makes_frames_redundant() -> None:
    video = SyntheticGenerator(
        num_frames=32, height=64, width=96, scenario="second_animal"
    ).generate_one(PROMPT, 0)
    result = AnnotationTracker().track(video.frames, PROMPT, video.annotations)
    assert result.validity.reason == "too_many_redundant" and result.validity.n_redundant == 32
    assert np.array_equal(result.animal_boxes, video.annotations.animal_boxes, equal_nan=True)
    assert result.notes == {"scenario": "second_animal"} and len(result.detections[0]) == 3


def test_valid_video_has_key_frame_and_label_normalization() -> None:
    box = (10.0, 10.0, 20.0, 20.0)
    dets = tuple((("Dogs", box), ("bench", (30.0, 10.0, 40.0, 20.0))) for _ in range(24))
    boxes = np.tile(box, (24, 1))
    ann = Annotations(detections=dets, animal_boxes=boxes, object_boxes=boxes + [20, 0, 20, 0])
    result = AnnotationTracker().track(np.zeros((24, 8, 8, 3), np.uint8), PROMPT, ann)
    assert result.validity.valid and result.validity.key_frame == 0
    assert result.validity.normalized_labels == {"Dogs": "dog"}


def test_no_annotations_or_wrong_length_is_invalid_with_reason() -> None:
    frames = np.zeros((5, 8, 8, 3), np.uint8)
    result = AnnotationTracker().track(frames, PROMPT, None)
    assert not result.validity.valid and result.validity.reason == "no_annotations"
    assert np.isnan(result.animal_boxes).all() and result.animal_boxes.shape == (5, 4)
    ann = Annotations(
        detections=((),) * 3,
        animal_boxes=np.full((3, 4), np.nan),
        object_boxes=np.full((3, 4), np.nan),
    )
    short = AnnotationTracker().track(frames, PROMPT, ann)
    assert short.validity.reason == "no_annotations" and "3 frames" in short.notes["error"]
