"""The ``annotations`` tracker: reads a generator's ground truth instead of running a detector.

Its purpose is to isolate tracker error from generation error: frame classes come from the
emitted per-frame detection labels (distractors included) through the same
:func:`~dsr.scoring.classify_frames` as a real detector, and the boxes are the true boxes.
A video without annotations (e.g. from ``wan`` or a file) is invalid with reason ``no_annotations``.
Labels are matched as ``label_match`` says (``normalized`` or the authors' ``exact``).

For a prompt placed in depth (front, behind) the depth values come from the true visible masks
and, by default, the true depth map (``depth_source="annotations"``); ``depth_source="model"`` runs
the depth model on the frames instead, which audits the depth model alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from dsr.generation.base import Annotations
from dsr.prompts import DSRPrompt
from dsr.scoring.geometry import box_tuple
from dsr.scoring.validity import (
    FrameClass,
    ValidityConfig,
    check_label_match,
    classify_frames,
    decide_validity,
)
from dsr.tracking.base import Detection, TrackResult, label_match_deviation
from dsr.tracking.depth import (
    DEFAULT_DEPTH_MODEL,
    DEPTH_SOURCES,
    DepthAnythingEstimator,
    DepthConfig,
    annotation_masks,
    check_depth_source,
    video_depth,
)

__all__ = ["NO_ANNOTATIONS", "AnnotationTracker", "AnnotationTrackerConfig"]

NO_ANNOTATIONS = "no_annotations"


@dataclass(frozen=True)
class AnnotationTrackerConfig(ValidityConfig):
    """The validity rules and the label matching of the ``annotations`` tracker."""

    label_match: str = field(
        default="normalized",
        metadata={
            "help": "normalized (ours) or exact (the authors')",
            "choices": ["normalized", "exact"],
        },
    )

    depth_source: str = field(
        default="annotations",
        metadata={
            "help": "for prompts placed in depth (front, behind): annotations (the true depth "
            "map), model (run depth_model on the frames, with the true masks) or off",
            "choices": DEPTH_SOURCES,
        },
    )
    depth_model: str = field(
        default=DEFAULT_DEPTH_MODEL,
        metadata={"help": "depth model of depth_source=model (Hub id or local directory)"},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_label_match(self.label_match)
        check_depth_source(self.depth_source)

    @property
    def validity(self) -> ValidityConfig:
        return ValidityConfig(**{f.name: getattr(self, f.name) for f in fields(ValidityConfig)})


class AnnotationTracker:
    """Frame classes and boxes from :class:`Annotations`."""

    name = "annotations"
    config_class = AnnotationTrackerConfig

    def __init__(self, validity: ValidityConfig | None = None, **options: Any) -> None:
        base = asdict(validity) if validity is not None else {}
        self.config = AnnotationTrackerConfig(**{**base, **options})
        self.validity = self.config.validity
        self.depth = (  # built only when used: it imports torch
            DepthAnythingEstimator(DepthConfig(model=self.config.depth_model))
            if self.config.depth_source == "model"
            else None
        )

    def settings(self) -> dict[str, Any]:
        """The config; the depth fields only when they leave the true depth map (so the samples
        of left/right/top prompts record exactly what they did before depth existed)."""
        out = {"tracker": self.name, **asdict(self.config)}
        if self.config.depth_source == "annotations":
            del out["depth_source"], out["depth_model"]
        elif self.depth is not None:
            out["depth_settings"] = self.depth.settings()
        else:
            del out["depth_model"]
        return out

    def track(
        self, frames: np.ndarray, prompt: DSRPrompt, annotations: Annotations | None = None
    ) -> TrackResult:
        n = int(np.asarray(frames).shape[0]) if frames is not None else 0
        if annotations is None:
            return _without_annotations(n)
        if len(annotations.detections) != n:
            result = _without_annotations(n)
            note = f"annotations cover {len(annotations.detections)} frames but the video has {n}"
            return TrackResult(
                result.animal_boxes, result.object_boxes, result.validity, notes={"error": note}
            )
        labels = [[label for label, _ in frame] for frame in annotations.detections]
        validity = classify_frames(
            labels, prompt.animal, prompt.object, self.validity, label_match=self.config.label_match
        )
        detections = tuple(
            tuple(Detection(label, box_tuple(box)) for label, box in frame)
            for frame in annotations.detections
        )
        return TrackResult(
            animal_boxes=np.asarray(annotations.animal_boxes, dtype=np.float64).reshape(n, 4),
            object_boxes=np.asarray(annotations.object_boxes, dtype=np.float64).reshape(n, 4),
            validity=validity,
            detections=detections,
            notes={"scenario": annotations.scenario} if annotations.scenario else {},
            deviations=label_match_deviation(validity),
            depth=video_depth(
                prompt,
                frames,
                annotation_masks(annotations),
                annotations,
                self.config.depth_source,
                self.depth,
            ),
        )


def _without_annotations(n: int) -> TrackResult:
    base = decide_validity([FrameClass.MISS] * n)  # every frame a miss: nothing was detected
    validity = replace(base, valid=False, reason=NO_ANNOTATIONS, key_frame=None)
    empty = np.full((n, 4), np.nan)
    return TrackResult(animal_boxes=empty, object_boxes=empty.copy(), validity=validity)
