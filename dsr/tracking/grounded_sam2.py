"""The paper's tracker, ``grounded-sam2`` (docs/method.md §3).

1. Grounding DINO with ``"<animal>. <object>."`` on every frame (:mod:`dsr.tracking.grounding`).
2. Frame classes, validity and the key frame from the detection labels
   (:func:`~dsr.scoring.classify_frames`). An invalid video is not tracked: its boxes are NaN.
3. The key frame's animal box (object id 1) and object box (id 2) prompt SAM2.1, propagated
   forward and backward over the whole video (:mod:`dsr.tracking.sam2_video`).
4. Masks → tight boxes; an empty mask is absent, and a mask that suddenly covers most of the frame
   is a lost track: recorded in the notes and treated as absent.
5. Only for a prompt placed in depth (front, behind): a monocular depth model on the same frames,
   batched, and the per-frame depth values over the two masks (:mod:`dsr.tracking.depth`);
   ``depth_source="annotations"`` takes the synthetic world's true depth map instead.

Where this differs from the authors' code, one option restores theirs (``--paper-exact`` sets
them all; the list is :data:`dsr.paper_exact.DEVIATION_ROWS`): labels are matched after
normalization (``label_match="exact"`` compares the strings as they do); lost tracks are dropped
(``lost_track_fraction=1.0`` keeps every box); the models see the frames as they are
(``input_frames="mp4-jpeg"``: through the authors' mp4 and JPEG files, ``"jpeg"`` for frames already
decoded from a stored video); they run in the model dtype (``autocast="bfloat16"``: under CUDA bf16
autocast); SAM2 tracks backward in the forward pass's session (``sam2_state="fresh"``).

Each result lists in ``deviations`` the rules that changed its frame classes or boxes; the rules
whose effect only a second run could tell (input frames, autocast, SAM2 state) are listed whenever
they applied to the sample.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from dsr.errors import ConfigError, DataError
from dsr.generation.base import Annotations
from dsr.media import authors_view
from dsr.prompts import DSRPrompt
from dsr.scoring.validity import LabelMatcher, Validity, check_label_match, classify_frames
from dsr.tracking.base import (
    AUTOCAST,
    INPUT_FRAMES,
    LOST_TRACK,
    SAM2_STATE,
    Detection,
    TrackResult,
    label_match_deviation,
)
from dsr.tracking.depth import DepthAnythingEstimator, DepthTrack, DepthTrackerConfig, video_depth
from dsr.tracking.grounding import (
    DEFAULT_DETECTOR,
    Detector,
    FrameDetections,
    GroundingConfig,
    GroundingDetector,
    detections_to_labels,
)
from dsr.tracking.models import lost_track_frames
from dsr.tracking.sam2_video import (
    DEFAULT_SAM2,
    SAM2_STATES,
    Propagation,
    Sam2Config,
    Sam2Propagator,
    check_sam2_state,
)

__all__ = ["AUTOCASTS", "INPUTS", "GroundedSam2Config", "GroundedSam2Tracker", "key_frame_boxes"]

#: What the models are given: the frames as they are, or the authors' view of them (their mp4 and
#: JPEG files, or the JPEG files alone for frames already decoded from a stored video).
INPUTS = ("raw", "mp4-jpeg", "jpeg")
#: Mixed precision around detection and tracking on CUDA.
AUTOCASTS = ("none", "bfloat16")


@dataclass(frozen=True)
class GroundedSam2Config(DepthTrackerConfig):
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

    input_frames: str = field(
        default="raw",
        metadata={
            "help": (
                "raw: the models see the frames as they are; mp4-jpeg: as the authors' models "
                "did, through an mp4 encoded as theirs (libx264 crf 25) and JPEG files (quality "
                "95); jpeg: JPEG files only (frames already decoded from a stored video)"
            ),
            "choices": INPUTS,
        },
    )
    autocast: str = field(
        default="none",
        metadata={
            "help": "none: run in the model dtype; bfloat16: detection and tracking under CUDA "
            "bf16 autocast, as the authors' script (no effect on the CPU)",
            "choices": AUTOCASTS,
        },
    )
    sam2_state: str = field(
        default="shared",
        metadata={
            "help": "shared: SAM2 tracks backward in the forward pass's session; fresh: a new "
            "session per direction, as the authors",
            "choices": SAM2_STATES,
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.input_frames not in INPUTS:
            raise ConfigError(
                f"input_frames={self.input_frames!r}: choose raw, mp4-jpeg (the authors') or jpeg"
            )
        if self.autocast not in AUTOCASTS:
            raise ConfigError(f"autocast={self.autocast!r}: choose none or bfloat16 (the authors')")
        check_sam2_state(self.sam2_state)
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
            state=self.sam2_state,
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
        self.depth = DepthAnythingEstimator(self.config.depth_config())

    def settings(self) -> dict[str, Any]:
        out = asdict(self.config)
        out.update(
            tracker=self.name,
            device=self.propagator.device,
            detector_settings=self.detector.settings(),
            depth_settings=self.depth.settings(),
        )
        return out

    def track(
        self, frames: np.ndarray, prompt: DSRPrompt, annotations: Annotations | None = None
    ) -> TrackResult:
        arr = self._input(np.asarray(frames))
        with self._autocast():
            detections = self.detector.detect(arr, prompt.animal, prompt.object, annotations)
        applied = self._applied()
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
                label_match_deviation(validity) + applied,
                self._depth(arr, prompt, None, annotations),
            )
        boxes = key_frame_boxes(detections, validity, prompt)
        depth = self.config.wants_depth(prompt)
        with self._autocast():
            prop = (
                self.propagator.propagate(arr, validity.key_frame, boxes, keep_masks=True)
                if depth
                else self.propagator.propagate(arr, validity.key_frame, boxes)
            )
        if self.config.sam2_state == "shared" and validity.key_frame > 0:
            applied += (SAM2_STATE,)
        result = self._result(prop, validity, validity.key_frame, detections, applied)
        if not depth or prop.masks is None:
            return result
        masks = (
            prop.masks
            & np.isfinite(np.stack([result.animal_boxes, result.object_boxes])).all(axis=2)[
                ..., None, None
            ]
        )  # a dropped (lost-track) frame has no mask either
        return replace(result, depth=self._depth(arr, prompt, (masks[0], masks[1]), annotations))

    def _depth(
        self,
        frames: np.ndarray,
        prompt: DSRPrompt,
        masks: tuple[np.ndarray, np.ndarray] | None,
        annotations: Annotations | None,
    ) -> DepthTrack | None:
        """The depth track of a prompt placed in depth (None for the others)."""
        with self._autocast():
            return video_depth(
                prompt, frames, masks, annotations, self.config.depth_source, self.depth
            )

    def _input(self, frames: np.ndarray) -> np.ndarray:
        """The frames the models are given (``input_frames``)."""
        if self.config.input_frames == "raw":
            return frames
        return authors_view(frames, via_mp4=self.config.input_frames == "mp4-jpeg")

    def _on_cuda(self) -> bool:
        return str(self.propagator.device).startswith("cuda") or str(
            getattr(self.detector, "device", "")
        ).startswith("cuda")

    @contextlib.contextmanager
    def _autocast(self) -> Iterator[None]:
        """CUDA bf16 autocast when ``autocast="bfloat16"`` and a model runs on CUDA; it leaves
        operations on the CPU alone, as the authors' ``torch.autocast("cuda", ...)`` does."""
        if self.config.autocast == "none" or not self._on_cuda():
            yield
            return
        import torch

        with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
            yield

    def _applied(self) -> tuple[str, ...]:
        """The rules of ours that applied to every sample this tracker sees (their effect would
        take a second run to know)."""
        out = (INPUT_FRAMES,) if self.config.input_frames == "raw" else ()
        return out + ((AUTOCAST,) if self.config.autocast == "none" and self._on_cuda() else ())

    def _result(
        self,
        prop: Propagation,
        validity: Validity,
        key: int,
        detections: FrameDetections,
        applied: tuple[str, ...] = (),
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
            label_match_deviation(validity) + lost_rule + applied,
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
