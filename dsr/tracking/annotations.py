"""The ``annotations`` tracker: reads a generator's ground truth instead of running a detector.

Its purpose is to isolate tracker error from generation error: frame classes come from the
emitted per-frame detection labels (distractors included) through the same
:func:`~dsr.scoring.classify_frames` as a real detector, and the boxes are the true boxes.
A video without annotations (e.g. from ``wan`` or a file) is invalid with reason ``no_annotations``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from dsr.generation.base import Annotations
from dsr.prompts import DSRPrompt
from dsr.scoring.validity import FrameClass, ValidityConfig, classify_frames, decide_validity
from dsr.tracking.base import Detection, TrackResult

__all__ = ["NO_ANNOTATIONS", "AnnotationTracker"]

NO_ANNOTATIONS = "no_annotations"


class AnnotationTracker:
    """Frame classes and boxes from :class:`Annotations`."""

    name = "annotations"

    def __init__(self, validity: ValidityConfig | None = None, **options: Any) -> None:
        self.validity = validity or ValidityConfig(**options)

    def settings(self) -> dict[str, Any]:
        return {
            "tracker": self.name,
            "max_redundant": self.validity.max_redundant,
            "min_valid": self.validity.min_valid,
            "min_run": self.validity.min_run,
        }

    def track(
        self, frames: np.ndarray, prompt: DSRPrompt, annotations: Annotations | None = None
    ) -> TrackResult:
        n = int(np.asarray(frames).shape[0]) if frames is not None else 0
        if annotations is None:
            return _without_annotations(n)
        if len(annotations.detections) != n:
            result = _without_annotations(n)
            note = f"annotations cover {len(annotations.detections)} frames but the video has {n}"
            return TrackResult(result.animal_boxes, result.object_boxes, result.validity, notes={"error": note})
        labels = [[label for label, _ in frame] for frame in annotations.detections]
        validity = classify_frames(labels, prompt.animal, prompt.object, self.validity)
        detections = tuple(
            tuple(Detection(label, tuple(float(v) for v in box)) for label, box in frame)  # type: ignore[arg-type]
            for frame in annotations.detections
        )
        return TrackResult(
            animal_boxes=np.asarray(annotations.animal_boxes, dtype=np.float64).reshape(n, 4),
            object_boxes=np.asarray(annotations.object_boxes, dtype=np.float64).reshape(n, 4),
            validity=validity,
            detections=detections,
            notes={"scenario": annotations.scenario} if annotations.scenario else {},
        )


def _without_annotations(n: int) -> TrackResult:
    base = decide_validity([FrameClass.MISS] * n)  # every frame a miss: nothing was detected
    validity = replace(base, valid=False, reason=NO_ANNOTATIONS, key_frame=None)
    empty = np.full((n, 4), np.nan)
    return TrackResult(animal_boxes=empty, object_boxes=empty.copy(), validity=validity)
