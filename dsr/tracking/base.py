"""The tracker interface: frames and a prompt in, per-frame boxes and validity out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from dsr.generation.base import Annotations
from dsr.paper_exact import RULES
from dsr.prompts import DSRPrompt
from dsr.registry import Registry
from dsr.scoring.validity import Validity

if TYPE_CHECKING:
    from dsr.tracking.depth import DepthTrack

__all__ = [
    "AUTOCAST",
    "DEFAULT_TRACKER",
    "DEVIATIONS",
    "INPUT_FRAMES",
    "LABEL_MATCH",
    "LOST_TRACK",
    "SAM2_STATE",
    "THIN_BOX",
    "TRACKERS",
    "Detection",
    "TrackResult",
    "Tracker",
    "label_match_deviation",
]

#: Rules of ours that go beyond the authors' code (docs/method.md §3); a sample lists those that
#: changed it. Names and meanings come from the one list of differences, ``dsr.paper_exact``.
LABEL_MATCH = "label_match"
LOST_TRACK = "lost_track"
INPUT_FRAMES = "input_frames"
AUTOCAST = "autocast"
SAM2_STATE = "sam2_state"
#: The DSR-Score's rule (its box check), added to a sample's list by whoever scores the boxes.
THIN_BOX = "thin_box"
DEVIATIONS: dict[str, str] = {
    name: RULES[name]
    for name in (LABEL_MATCH, LOST_TRACK, INPUT_FRAMES, AUTOCAST, SAM2_STATE, THIN_BOX)
}


@dataclass(frozen=True)
class Detection:
    """One detector output in one frame."""

    label: str
    box: tuple[float, float, float, float]
    score: float = 1.0


@dataclass(frozen=True)
class TrackResult:
    """Per-frame boxes of the animal and the object (T, 4; NaN rows where absent), the validity
    decision (frame classes, reason, key frame), and the raw per-frame detections when the tracker
    has them (so validity can be recomputed without re-running the detector). ``deviations`` names
    the rules of :data:`DEVIATIONS` that changed this result's frame classes or boxes.
    ``depth`` holds the per-frame depth values (:mod:`dsr.tracking.depth`) of a prompt placed in
    depth (front, behind); None for the others."""

    animal_boxes: np.ndarray
    object_boxes: np.ndarray
    validity: Validity
    detections: tuple[tuple[Detection, ...], ...] | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    deviations: tuple[str, ...] = ()
    depth: DepthTrack | None = None


def label_match_deviation(validity: Validity) -> tuple[str, ...]:
    """``("label_match",)`` when normalized label matching changed a frame's class, else ``()``."""
    return (LABEL_MATCH,) if validity.label_match_frames else ()


@runtime_checkable
class Tracker(Protocol):
    name: str

    def settings(self) -> dict[str, Any]:
        """Model ids and thresholds, stored with every sample (JSON-serializable)."""
        ...

    def track(
        self, frames: np.ndarray, prompt: DSRPrompt, annotations: Annotations | None = None
    ) -> TrackResult:
        """Track the prompt's animal and object over uint8 frames of shape (T, H, W, 3)."""
        ...


#: The tracker of the paper's pipeline, used unless another is chosen.
DEFAULT_TRACKER = "grounded-sam2"

TRACKERS = Registry(
    "tracker",
    {
        "annotations": "dsr.tracking.annotations:AnnotationTracker",
        "grounded-sam2": "dsr.tracking.grounded_sam2:GroundedSam2Tracker",
        "sam3": "dsr.tracking.sam3:Sam3Tracker",
    },
)
