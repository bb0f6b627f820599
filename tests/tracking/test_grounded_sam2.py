from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torchvision.ops import masks_to_boxes as tv_masks_to_boxes

from dsr.errors import ConfigError
from dsr.generation.base import Annotations
from dsr.prompts import DSRPrompt
from dsr.scoring import classify_frames
from dsr.tracking import TRACKERS
from dsr.tracking.grounded_sam2 import GroundedSam2Config, GroundedSam2Tracker
from dsr.tracking.grounding import AnnotationDetector, detections_to_labels
from dsr.tracking.models import lost_track_frames, masks_to_boxes
from dsr.tracking.sam2_video import Sam2Propagator

CAT, BENCH = (4.0, 20.0, 14.0, 31.0), (24.0, 40.0, 39.0, 47.0)


def _annotations(frame_labels: list[list[str]]) -> Annotations:
    boxes = {"cat": CAT, "Cats": CAT, "bench": BENCH, "dog": (50.0, 5.0, 60.0, 15.0)}
    dets = tuple(tuple((label, boxes[label]) for label in labels) for labels in frame_labels)
    n = len(frame_labels)
    return Annotations(dets, np.tile(CAT, (n, 1)), np.tile(BENCH, (n, 1)))


def _tracker(tiny_sam2, validity, **options) -> GroundedSam2Tracker:
    return GroundedSam2Tracker(
        detector="unused",
        sam2=str(tiny_sam2),
        validity=validity,
        detector_backend=AnnotationDetector(),
        **options,
    )


def test_masks_to_boxes_uses_inclusive_extent_like_torchvision() -> None:
    rng = np.random.default_rng(0)
    masks = np.zeros((4, 16, 20), dtype=bool)
    masks[0, 3:8, 5:11] = True
    masks[1, 0, 0] = True
    masks[2] = rng.random((16, 20)) > 0.8
    out = masks_to_boxes(masks)
    np.testing.assert_array_equal(out[0], [5, 3, 10, 7])
    np.testing.assert_array_equal(out[1], [0, 0, 0, 0])
    np.testing.assert_array_equal(out[:3], tv_masks_to_boxes(torch.from_numpy(masks[:3])).numpy())
    assert np.isnan(out[3]).all()  # an empty mask is an absent object


def test_lost_track_is_a_sudden_frame_filling_mask() -> None:
    area = np.array([0.1, 0.95, 0.12, 0.99, np.nan])
    np.testing.assert_array_equal(
        lost_track_frames(area, 0.9, key_frame=0), [False, True, False, True, False]
    )
    # an object that already fills the frame at the key frame is kept
    assert not lost_track_frames(area, 0.9, key_frame=1).any()


def test_config_validation() -> None:
    with pytest.raises(ConfigError):
        GroundedSam2Config(lost_track_fraction=0.0)
    with pytest.raises(ConfigError):
        GroundedSam2Config(box_threshold=2.0)
    with pytest.raises(ConfigError):
        GroundedSam2Config(dtype="float64")


def test_registry_resolves_the_tracker() -> None:
    assert TRACKERS.resolve("grounded-sam2") is GroundedSam2Tracker


@pytest.mark.parametrize("key", [0, 5, 9])
def test_propagation_covers_every_frame_from_any_key_frame(
    tiny_sam2, moving_squares, key: int
) -> None:
    prop = Sam2Propagator(model=str(tiny_sam2)).propagate(moving_squares(10), key, [CAT, BENCH])
    assert prop.visited.all()
    assert prop.boxes.shape == (2, 10, 4) and prop.area.shape == (2, 10)
    assert np.isfinite(prop.boxes).all()  # the tiny model is biased to see its objects


def test_valid_video_is_tracked_forward_and_backward_from_a_middle_key_frame(
    tiny_sam2, moving_squares, prompt, short_validity
) -> None:
    labels = [["cat"]] * 3 + [["Cats", "bench"]] * 7  # key frame 3, label normalized
    result = _tracker(tiny_sam2, short_validity).track(
        moving_squares(10), prompt, _annotations(labels)
    )
    assert result.validity.valid and result.validity.key_frame == 3
    assert result.validity.normalized_labels == {"Cats": "cat"}
    assert result.animal_boxes.shape == result.object_boxes.shape == (10, 4)
    assert np.isfinite(result.animal_boxes).all() and np.isfinite(result.object_boxes).all()
    assert "unvisited_frames" not in result.notes and result.notes["key_frame"] == 3
    assert detections_to_labels(result.detections) == labels  # kept for re-deciding validity later


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        ([["cat", "bench", "dog"]] * 4 + [["cat", "bench"]] * 6, "too_many_redundant"),
        ([["cat"]] * 7 + [["cat", "bench"]] * 3, "too_few_valid"),
        (
            [["cat", "bench"], ["cat", "bench"], ["cat", "bench"], []] * 2 + [["cat", "dog"]] * 2,
            "no_valid_run",
        ),
    ],
)
def test_invalid_video_is_not_tracked(
    tiny_sam2, moving_squares, prompt, short_validity, labels, reason
) -> None:
    result = _tracker(tiny_sam2, short_validity).track(
        moving_squares(10), prompt, _annotations(labels)
    )
    expected = classify_frames(labels, "cat", "bench", short_validity)
    assert result.validity.reason == expected.reason == reason
    assert result.validity.frame_classes == expected.frame_classes
    assert np.isnan(result.animal_boxes).all() and np.isnan(result.object_boxes).all()
    assert result.notes == {"tracked": False}


def test_full_tracker_with_tiny_grounding_dino(
    tiny_grounding_dino, tiny_sam2, moving_squares, prompt, short_validity
) -> None:
    tracker = GroundedSam2Tracker(
        detector=str(tiny_grounding_dino),
        sam2=str(tiny_sam2),
        validity=short_validity,
        box_threshold=0.3,
        text_threshold=0.1,
        batch_size=4,
    )
    result = tracker.track(moving_squares(8), prompt)
    assert len(result.detections) == 8 and result.animal_boxes.shape == (8, 4)
    assert result.validity == classify_frames(
        detections_to_labels(result.detections), "cat", "bench", short_validity
    )
    if not result.validity.valid:  # random weights rarely name the nouns: nothing is tracked
        assert np.isnan(result.animal_boxes).all()
    settings = tracker.settings()
    json.dumps(settings)
    assert settings["detector"] == str(tiny_grounding_dino) and settings["sam2"] == str(tiny_sam2)
    assert settings["box_threshold"] == 0.3 and settings["validity"]["min_valid"] == 4


@pytest.mark.parametrize(("animal", "normalized"), [("fox", {}), ("red fox", {"fox": "red fox"})])
def test_full_tracker_valid_path_with_a_scripted_grounding_dino(
    scripted_grounding_dino, tiny_sam2, short_validity, animal: str, normalized: dict
) -> None:
    """The real detector names both nouns on every frame: key frame found, SAM2 boxes everywhere."""
    prompt = DSRPrompt(
        scene="", animal=animal, object="stump", initial="left", final="right", verb="walks"
    )
    detector = scripted_grounding_dino(f"{animal}. stump.")
    tracker = GroundedSam2Tracker(
        detector=str(detector), sam2=str(tiny_sam2), validity=short_validity, batch_size=4
    )
    frames = np.random.default_rng(1).integers(0, 256, (8, 48, 80, 3), dtype=np.uint8)
    result = tracker.track(frames, prompt)
    assert result.validity.valid and result.validity.key_frame == 0
    assert (
        result.validity.normalized_labels == normalized
    )  # "fox" matched "red fox" by its head noun
    assert result.notes["tracked"] and "unvisited_frames" not in result.notes
    for boxes in (result.animal_boxes, result.object_boxes):
        assert boxes.shape == (8, 4) and np.isfinite(boxes).all()
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 79).all() and (boxes[:, 3] <= 47).all()
    assert [{d.label for d in frame} for frame in result.detections] == [
        {animal.split()[-1], "stump"}
    ] * 8


def test_sample_row_keeps_per_frame_detections(
    scripted_grounding_dino, tiny_sam2, short_validity, scripted_boxes
) -> None:
    """Validity can be re-decided from the stored detections, without re-running the detector."""
    from dsr.builders.samples import build_sample
    from dsr.generation.base import GeneratedVideo

    tracker = GroundedSam2Tracker(
        detector=str(scripted_grounding_dino()), sam2=str(tiny_sam2), validity=short_validity
    )
    record = {
        "prompt_id": "p",
        "prompt": (
            "In a barn, a fox is on the left of a stump, then the fox walks to the "
            "right of the stump."
        ),
    }
    frames = np.random.default_rng(2).integers(0, 256, (6, 48, 80, 3), dtype=np.uint8)
    row = build_sample(
        record, 0, GeneratedVideo(frames, 16, 0), tracker, split="test", generator="file"
    )
    stored = row["detections"]
    assert [[d["label"] for d in frame] for frame in stored] == [["fox", "stump"]] * 6
    np.testing.assert_allclose(
        stored[0][0]["box"], np.array(scripted_boxes["fox"]) * [80, 48, 80, 48], atol=0.02
    )
    again = classify_frames(
        [[d["label"] for d in frame] for frame in stored], "fox", "stump", short_validity
    )
    assert again.frame_class_names == row["frame_classes"]
