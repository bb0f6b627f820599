"""``sam3``: text-prompted video tracking with SAM3 (beyond the paper).

SAM3 detects and tracks every instance of each text prompt (the animal noun, the object noun) over
the video. A frame is ``valid`` with exactly one instance of each, ``redundant`` with more than one
of either, ``miss`` otherwise — for the per-frame label counts this is the same rule as
:func:`~dsr.scoring.classify_frames` applies to detector labels, so the two trackers agree on what
a frame class means and can be compared sample by sample. Validity and the key frame then follow
:func:`~dsr.scoring.decide_validity`. Boxes come from the masks (tight, inclusive extent); where a
frame has several instances, the one tracked since the key frame is kept (else the highest score).

Only for a prompt placed in depth (front, behind), the masks of the kept instances are kept too and
a monocular depth model runs on the same frames, as in ``grounded-sam2``
(:mod:`dsr.tracking.depth`; the same ``depth_*`` options).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from dsr.errors import ConfigError
from dsr.generation.base import Annotations
from dsr.prompts import DSRPrompt
from dsr.scoring.geometry import box_tuple
from dsr.scoring.validity import FrameClass, Validity, decide_validity
from dsr.tracking.base import Detection, TrackResult
from dsr.tracking.depth import DepthAnythingEstimator, DepthTrack, DepthTrackerConfig, video_depth
from dsr.tracking.models import (
    load_pretrained,
    masks_to_boxes,
    resolve_device,
    resolve_dtype,
)

__all__ = [
    "DEFAULT_SAM3",
    "Instance",
    "Sam3Config",
    "Sam3Tracker",
    "frame_class",
    "select_boxes",
    "select_instances",
]

DEFAULT_SAM3 = "facebook/sam3"


@dataclass(frozen=True)
class Instance:
    """One SAM3 instance in one frame: its track id, detection score and box (and its boolean
    mask (H, W) when the tracker keeps masks for depth)."""

    obj_id: int
    score: float
    box: tuple[float, float, float, float]
    mask: np.ndarray | None = field(default=None, compare=False, repr=False)


#: Per frame, per role ("animal"/"object"), the instances found.
FrameInstances = dict[str, list[Instance]]


@dataclass(frozen=True)
class Sam3Config(DepthTrackerConfig):
    """Model and thresholds of the ``sam3`` tracker."""

    model: str = field(
        default=DEFAULT_SAM3,
        metadata={"help": "SAM3 video Hub id or local directory (facebook/sam3 is gated)."},
    )
    score_threshold: float | None = field(
        default=None,
        metadata={"help": "detection score threshold; None keeps the checkpoint's (0.5)"},
    )
    new_det_threshold: float | None = field(
        default=None,
        metadata={"help": "score needed to start a new track; None keeps the checkpoint's (0.7)"},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("score_threshold", "new_det_threshold"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ConfigError(f"Sam3Config.{name}={value} must lie in [0, 1] or be None")
        if not self.model:
            raise ConfigError("Sam3Config.model is empty: give a Hub id or a local directory")


def frame_class(n_animal: int, n_object: int) -> FrameClass:
    """``valid`` with one instance of each, ``redundant`` with more of either, else ``miss``."""
    if n_animal > 1 or n_object > 1:
        return FrameClass.REDUNDANT
    return FrameClass.VALID if n_animal == n_object == 1 else FrameClass.MISS


def select_instances(
    frames: list[FrameInstances], role: str, key_frame: int
) -> tuple[list[Instance | None], list[int]]:
    """Per frame the instance of ``role``: the only one, or the key frame's track, or the best
    score (None where absent); and the frames where a choice among several was made."""
    key_ids = {inst.obj_id for inst in frames[key_frame][role]}
    out: list[Instance | None] = []
    chosen_among_many = []
    for t, frame in enumerate(frames):
        found = frame[role]
        if len(found) > 1:
            chosen_among_many.append(t)
            same = [i for i in found if i.obj_id in key_ids]
            found = same or sorted(found, key=lambda i: -i.score)
        out.append(found[0] if found else None)
    return out, chosen_among_many


def select_boxes(
    frames: list[FrameInstances], role: str, key_frame: int
) -> tuple[np.ndarray, list[int]]:
    """Per frame the box of the instance :func:`select_instances` keeps.

    Returns the boxes (T, 4; NaN where absent) and the frames where a choice among several was made.
    """
    chosen, many = select_instances(frames, role, key_frame)
    out = np.full((len(frames), 4), np.nan)
    for t, inst in enumerate(chosen):
        if inst is not None:
            out[t] = inst.box
    return out, many


def _stack_masks(chosen: list[Instance | None], shape: tuple[int, int]) -> np.ndarray:
    """The kept instances' masks (T, H, W); empty where a frame has none."""
    out = np.zeros((len(chosen), *shape), dtype=bool)
    for t, inst in enumerate(chosen):
        if inst is not None and inst.mask is not None:
            out[t] = inst.mask
    return out


class Sam3Tracker:
    """SAM3 video, prompted with the animal and the object nouns."""

    name = "sam3"
    config_class = Sam3Config

    def __init__(self, config: Sam3Config | None = None, **options: Any) -> None:
        self.config = config or Sam3Config(**options)
        self.device = resolve_device(self.config.device)
        self.depth = DepthAnythingEstimator(self.config.depth_config())

    def settings(self) -> dict[str, Any]:
        return {
            **asdict(self.config),
            "tracker": self.name,
            "device": self.device,
            "depth_settings": self.depth.settings(),
        }

    def _load(self) -> tuple[Any, Any]:
        return load_pretrained(
            "sam3-video",
            "Sam3VideoModel",
            "Sam3VideoProcessor",
            self.config.model,
            self.device,
            self.config.dtype,
        )

    def track(
        self, frames: np.ndarray, prompt: DSRPrompt, annotations: Annotations | None = None
    ) -> TrackResult:
        arr = np.asarray(frames)
        depth = self.config.wants_depth(prompt)
        instances = self.instances(arr, prompt.animal, prompt.object, keep_masks=depth)
        classes = [frame_class(len(f["animal"]), len(f["object"])) for f in instances]
        validity = decide_validity(classes, self.config.validity)
        detections = tuple(
            tuple(
                Detection(name, inst.box, inst.score)
                for role, name in (("animal", prompt.animal), ("object", prompt.object))
                for inst in f[role]
            )
            for f in instances
        )
        if not validity.valid or validity.key_frame is None:
            empty = np.full((len(instances), 4), np.nan)
            return TrackResult(
                empty,
                empty.copy(),
                validity,
                detections,
                {"tracked": False},
                depth=self._depth(arr, prompt, None, annotations),
            )
        result = self._result(instances, validity, validity.key_frame, detections)
        if not depth:
            return result
        masks = tuple(
            _stack_masks(select_instances(instances, role, validity.key_frame)[0], arr.shape[1:3])
            for role in ("animal", "object")
        )
        return replace(result, depth=self._depth(arr, prompt, (masks[0], masks[1]), annotations))

    def _depth(
        self,
        frames: np.ndarray,
        prompt: DSRPrompt,
        masks: tuple[np.ndarray, np.ndarray] | None,
        annotations: Annotations | None,
    ) -> DepthTrack | None:
        """The depth track of a prompt placed in depth (None for the others)."""
        return video_depth(prompt, frames, masks, annotations, self.config.depth_source, self.depth)

    def _result(
        self,
        instances: list[FrameInstances],
        validity: Validity,
        key: int,
        detections: tuple[tuple[Detection, ...], ...],
    ) -> TrackResult:
        animal, many_a = select_boxes(instances, "animal", key)
        obj, many_o = select_boxes(instances, "object", key)
        notes: dict[str, Any] = {
            "tracked": True,
            "key_frame": key,
            "key_track_ids": {
                r: [i.obj_id for i in instances[key][r]] for r in ("animal", "object")
            },
        }
        if many_a or many_o:
            notes["chosen_among_several"] = {"animal": many_a, "object": many_o}
        return TrackResult(animal, obj, validity, detections, notes)

    def instances(
        self, frames: np.ndarray, animal: str, obj: str, keep_masks: bool = False
    ) -> list[FrameInstances]:
        """Per frame, the instances SAM3 tracks for each noun (with their masks if
        ``keep_masks``)."""
        import torch

        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ConfigError(f"frames must have shape (T, H, W, 3), got {frames.shape}")
        model, processor = self._load()
        self._apply_thresholds(model)
        session = processor.init_video_session(
            video=list(frames), inference_device=self.device, dtype=resolve_dtype(self.config.dtype)
        )
        processor.add_text_prompt(session, [animal, obj])
        out: list[FrameInstances] = [{"animal": [], "object": []} for _ in range(frames.shape[0])]
        with torch.inference_mode():
            for step in model.propagate_in_video_iterator(session, start_frame_idx=0):
                post = processor.postprocess_outputs(session, step)
                out[step.frame_idx] = _frame_instances(post, animal, obj, keep_masks)
        return out

    def _apply_thresholds(self, model: Any) -> None:
        """Apply the configured thresholds to the shared model (set on every call); ``None``
        restores the checkpoint's value, which another tracker sharing the cached model
        may have changed."""
        if not hasattr(model, "_dsr_checkpoint_thresholds"):
            model._dsr_checkpoint_thresholds = (
                model.score_threshold_detection,
                model.new_det_thresh,
            )
        score, new_det = model._dsr_checkpoint_thresholds
        model.score_threshold_detection = (
            score if self.config.score_threshold is None else self.config.score_threshold
        )
        model.new_det_thresh = (
            new_det if self.config.new_det_threshold is None else self.config.new_det_threshold
        )


def _frame_instances(
    post: dict[str, Any], animal: str, obj: str, keep_masks: bool = False
) -> FrameInstances:
    ids = [int(i) for i in post["object_ids"].tolist()]
    scores = post["scores"].float().tolist()
    masks = np.asarray(post["masks"].cpu().numpy(), dtype=bool) if ids else None
    boxes = masks_to_boxes(masks) if masks is not None else np.zeros((0, 4))
    row = {oid: i for i, oid in enumerate(ids)}
    found: FrameInstances = {"animal": [], "object": []}
    for role, text in (("animal", animal), ("object", obj)):
        for oid in post["prompt_to_obj_ids"].get(text, []):
            i = row[int(oid)]
            if np.isfinite(boxes[i]).all():  # the non-overlap constraint can empty a mask
                mask = masks[i] if keep_masks and masks is not None else None
                found[role].append(
                    Instance(int(oid), float(scores[i]), box_tuple(boxes[i]), mask=mask)
                )
    return found
