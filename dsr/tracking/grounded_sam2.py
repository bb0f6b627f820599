"""The paper's tracker, ``grounded-sam2`` (SPEC §3).

1. Grounding DINO with ``"<animal>. <object>."`` on every frame (:mod:`dsr.tracking.grounding`).
2. Frame classes, validity and the key frame from the detection labels
   (:func:`~dsr.scoring.classify_frames`). An invalid video is not tracked: its boxes are NaN.
3. The key frame's animal box (object id 1) and object box (id 2) prompt SAM2.1, propagated
   forward and backward over the whole video (:mod:`dsr.tracking.sam2_video`).
4. Masks → tight boxes; an empty mask is absent, and a mask that suddenly covers most of the frame
   is a lost track: recorded in the notes and treated as absent.

Two rules go beyond the authors' code, each one option away from their behaviour
(``dsr.paper_exact`` sets both): labels are matched after normalization (``label_match="exact"``
compares the strings as the authors do), and lost tracks are dropped (``lost_track_fraction=1.0``
turns the rule off: the authors keep every box). Each result lists in ``deviations`` the rules
that changed its frame classes or boxes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from dsr.errors import ConfigError, DataError
from dsr.generation.base import Annotations
from dsr.prompts import DSRPrompt
from dsr.scoring.validity import LabelMatcher, Validity, check_label_match, classify_frames
from dsr.tracking.base import LOST_TRACK, Detection, TrackResult, label_match_deviation
from dsr.tracking.grounding import (
    DEFAULT_DETECTOR,
    Detector,
    FrameDetections,
    GroundingConfig,
    GroundingDetector,
    detections_to_labels,
)
from dsr.tracking.models import ModelTrackerConfig, lost_track_frames
from dsr.tracking.sam2_video import DEFAULT_SAM2, Propagation, Sam2Config, Sam2Propagator

__all__ = ["GroundedSam2Config", "GroundedSam2Tracker", "key_frame_boxes"]


@dataclass(frozen=True)
class GroundedSam2Config(ModelTrackerConfig):
    """Models, thresholds and validity rules of the ``grounded-sam2`` tracker."""

    detector: str = field(
        default=DEFAULT_DETECTOR, metadata={"help": "Grounding DINO Hub id or local directory."}
    )
    sam2: str = field(
        default=DEFAULT_SAM2, metadata={"help": "SAM2 video Hub id or local directory."}
    )
    box_threshold: float = field(default=0.4, metadata={"help": "Detector box threshold."})
    text_threshold: float = field(default=0.3, metadata={"help": "Detector text threshold."})
    batch_size: int = field(default=8, metadata={"help": "Frames per detector forward pass."})
    mask_threshold: float = field(default=0.0, metadata={"help": "SAM2 mask logit threshold."})
    lost_track_fraction: float = field(
        default=0.9,
        metadata={
            "help": (
                "a mask covering more of the frame than this (and not at the key frame) is a lost "
                "track and dropped; 1.0 turns the rule off (the authors keep every box)"
            )
        },
    )
    label_match: str = field(
        default="normalized",
        metadata={
            "help": (
                "normalized: detector labels matched after case, plural and head-noun "
                "normalization; exact: the authors' sorted(labels) == sorted([animal, object])"
            ),
            "choices": ["normalized", "exact"],
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 < self.lost_track_fraction <= 1.0:
            raise ConfigError(
                f"lost_track_fraction={self.lost_track_fraction} must lie in (0, 1]; 1.0 turns the "
                "lost-track rule off"
            )
        check_label_match(self.label_match)
        self.grounding()  # validates the detector fields

    def grounding(self) -> GroundingConfig:
        return GroundingConfig(
            model=self.detector,
            box_threshold=self.box_threshold,
            text_threshold=self.text_threshold,
            batch_size=self.batch_size,
            device=self.device,
            dtype=self.dtype,
        )

    def sam2_config(self) -> Sam2Config:
        return Sam2Config(
            model=self.sam2,
            mask_threshold=self.mask_threshold,
            device=self.device,
            dtype=self.dtype,
        )


class GroundedSam2Tracker:
    """Grounding DINO on every frame, then SAM2.1 from the key frame (the paper's pipeline).

    ``detector_backend`` replaces Grounding DINO by
    another :class:`~dsr.tracking.grounding.Detector`
    (e.g. :class:`~dsr.tracking.grounding.AnnotationDetector` to audit SAM2 alone).
    """

    name = "grounded-sam2"
    config_class = GroundedSam2Config

    def __init__(
        self,
        config: GroundedSam2Config | None = None,
        *,
        detector_backend: Detector | None = None,
        **options: Any,
    ) -> None:
        self.config = config or GroundedSam2Config(**options)
        self.detector = detector_backend or GroundingDetector(self.config.grounding())
        self.propagator = Sam2Propagator(self.config.sam2_config())

    def settings(self) -> dict[str, Any]:
        out = asdict(self.config)
        out.update(
            tracker=self.name,
            device=self.propagator.device,
            detector_settings=self.detector.settings(),
        )
        return out

    def track(
        self, frames: np.ndarray, prompt: DSRPrompt, annotations: Annotations | None = None
    ) -> TrackResult:
        arr = np.asarray(frames)
        detections = self.detector.detect(arr, prompt.animal, prompt.object, annotations)
        validity = classify_frames(
            detections_to_labels(detections),
            prompt.animal,
            prompt.object,
            self.config.validity,
            label_match=self.config.label_match,
        )
        n = arr.shape[0]
        if not validity.valid or validity.key_frame is None:
            empty = np.full((n, 4), np.nan)
            return TrackResult(
                empty,
                empty.copy(),
                validity,
                detections,
                {"tracked": False},
                label_match_deviation(validity),
            )
        boxes = key_frame_boxes(detections, validity, prompt)
        prop = self.propagator.propagate(arr, validity.key_frame, boxes)
        return self._result(prop, validity, validity.key_frame, detections)

    def _result(
        self, prop: Propagation, validity: Validity, key: int, detections: FrameDetections
    ) -> TrackResult:
        notes: dict[str, Any] = {"tracked": True, "key_frame": key}
        boxes = prop.boxes.copy()
        for k, role in enumerate(("animal", "object")):
            lost = lost_track_frames(prop.area[k], self.config.lost_track_fraction, key)
            boxes[k, lost] = np.nan
            if lost.any():
                notes.setdefault("lost_track_frames", {})[role] = np.flatnonzero(lost).tolist()
            empty = np.flatnonzero(prop.visited & ~np.isfinite(prop.boxes[k]).all(axis=1))
            if empty.size:
                notes.setdefault("empty_mask_frames", {})[role] = empty.tolist()
        if not prop.visited.all():  # cannot happen with forward+backward; say so if it does
            notes["unvisited_frames"] = np.flatnonzero(~prop.visited).tolist()
        lost_rule = (LOST_TRACK,) if "lost_track_frames" in notes else ()
        return TrackResult(
            boxes[0],
            boxes[1],
            validity,
            detections,
            notes,
            label_match_deviation(validity) + lost_rule,
        )


def key_frame_boxes(
    detections: FrameDetections, validity: Validity, prompt: DSRPrompt
) -> list[tuple[float, ...]]:
    """The animal's and the object's detected boxes on the key frame, in that order."""
    matcher = LabelMatcher(prompt.animal, prompt.object)
    found: dict[str, Detection] = {}
    if validity.key_frame is None:
        raise DataError("the video has no key frame (it is invalid): there are no key-frame boxes")
    for det in detections[validity.key_frame]:
        name = matcher.match(det.label)
        if name is not None:
            found[name] = det
    missing = [n for n in (prompt.animal, prompt.object) if n not in found]
    if missing:  # a valid key frame always has both; guard against a changed matcher
        raise DataError(f"key frame {validity.key_frame} lacks a detection of {missing}")
    return [found[prompt.animal].box, found[prompt.object].box]
