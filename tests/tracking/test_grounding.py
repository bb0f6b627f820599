from __future__ import annotations

import json

import numpy as np
import pytest

from dsr.errors import ConfigError
from dsr.generation.base import Annotations
from dsr.tracking.grounding import (
    AnnotationDetector,
    GroundingConfig,
    GroundingDetector,
    detection_text,
    detections_to_labels,
)


def test_detection_text_is_one_phrase_per_noun() -> None:
    assert detection_text("Red Fox ", "bench") == "red fox. bench."


@pytest.mark.parametrize(
    "options",
    [
        {"box_threshold": 1.5},
        {"text_threshold": -0.1},
        {"batch_size": 0},
        {"dtype": "int8"},
        {"model": ""},
    ],
)
def test_config_rejects_bad_values(options: dict) -> None:
    with pytest.raises(ConfigError):
        GroundingConfig(**options)


def test_detector_returns_detections_per_frame(tiny_grounding_dino, moving_squares) -> None:
    frames = moving_squares(6)
    detector = GroundingDetector(
        model=str(tiny_grounding_dino), box_threshold=0.5, text_threshold=0.0
    )
    out = detector.detect(frames, "cat", "bench")
    assert len(out) == 6
    for frame in out:
        for det in frame:
            assert isinstance(det.label, str) and len(det.box) == 4
            assert 0.5 < det.score <= 1.0
    assert json.dumps(detector.settings())
    assert detector.settings()["model"] == str(tiny_grounding_dino)


def test_batched_detection_equals_frame_at_a_time(tiny_grounding_dino, moving_squares) -> None:
    frames = moving_squares(7)
    common = dict(model=str(tiny_grounding_dino), box_threshold=0.3, text_threshold=0.1)
    batched = GroundingDetector(batch_size=4, **common).detect(frames, "cat", "bench")
    single = GroundingDetector(batch_size=1, **common).detect(frames, "cat", "bench")
    assert detections_to_labels(batched) == detections_to_labels(single)
    for a, b in zip(batched, single, strict=True):
        np.testing.assert_allclose([d.box for d in a], [d.box for d in b], atol=1e-3)
        np.testing.assert_allclose([d.score for d in a], [d.score for d in b], atol=1e-4)


def test_threshold_one_detects_nothing(tiny_grounding_dino, moving_squares) -> None:
    out = GroundingDetector(model=str(tiny_grounding_dino), box_threshold=1.0).detect(
        moving_squares(3), "cat", "bench"
    )
    assert out == ((), (), ())


def test_model_is_loaded_once_per_process(tiny_grounding_dino, moving_squares) -> None:
    a = GroundingDetector(model=str(tiny_grounding_dino))
    b = GroundingDetector(model=str(tiny_grounding_dino), box_threshold=0.9)
    assert a._load()[0] is b._load()[0]


def test_detector_rejects_wrong_frame_shape(tiny_grounding_dino, moving_squares) -> None:
    with pytest.raises(ConfigError, match="shape"):
        GroundingDetector(model=str(tiny_grounding_dino)).detect(
            np.zeros((2, 8, 8), np.uint8), "cat", "bench"
        )


def test_annotation_detector_reads_ground_truth() -> None:
    ann = Annotations(
        detections=((("cat", (1, 2, 3, 4)),), ()),
        animal_boxes=np.zeros((2, 4)),
        object_boxes=np.zeros((2, 4)),
    )
    out = AnnotationDetector().detect(np.zeros((2, 8, 8, 3), np.uint8), "cat", "bench", ann)
    assert detections_to_labels(out) == [["cat"], []]
    assert out[0][0].box == (1.0, 2.0, 3.0, 4.0)
    assert AnnotationDetector().detect(np.zeros((2, 8, 8, 3), np.uint8), "cat", "bench") == ((), ())


def test_scripted_detector_returns_pixel_boxes_of_the_original_frame(
    scripted_grounding_dino, scripted_boxes
) -> None:
    """Boxes in pixel xyxy of the ORIGINAL (non-square) frame: target sizes go in (h, w) order."""
    frames = np.random.default_rng(0).integers(0, 256, (5, 48, 80, 3), dtype=np.uint8)
    out = GroundingDetector(model=str(scripted_grounding_dino()), batch_size=2).detect(
        frames, "fox", "stump"
    )
    assert detections_to_labels(out) == [["fox", "stump"]] * 5
    scale = np.array([80, 48, 80, 48])
    for frame in out:
        np.testing.assert_allclose(
            [d.box for d in frame],
            [np.array(scripted_boxes[n]) * scale for n in ("fox", "stump")],
            atol=0.01,
        )
        assert all(d.score > 0.9 for d in frame)


def test_box_threshold_is_the_keep_threshold(scripted_grounding_dino) -> None:
    frames = np.zeros((2, 48, 80, 3), np.uint8)
    path = str(scripted_grounding_dino())
    kept = GroundingDetector(model=path, box_threshold=0.4).detect(frames, "fox", "stump")
    assert detections_to_labels(kept) == [["fox", "stump"]] * 2
    none = GroundingDetector(model=path, box_threshold=0.999).detect(frames, "fox", "stump")
    assert none == ((), ())
