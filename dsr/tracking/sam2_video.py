"""SAM2.1 video propagation from box prompts on one key frame (docs/method.md §3).

The prompts go on the key frame; the tracker is propagated forward to the last frame and backward
to the first, so every frame gets a mask per object. Masks become tight boxes
(:func:`~dsr.tracking.models.masks_to_boxes`); an empty mask is an absent object.

``state="shared"`` propagates both directions in one inference session, so the backward pass can
draw memory from frames the forward pass tracked; ``state="fresh"`` (the authors', who call
``init_state`` once per direction) starts each direction in a new session prompted alike. Either
way the backward pass writes last, so it wins at the key frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from dsr.errors import ConfigError, DataError
from dsr.tracking.models import (
    check_dtype,
    load_pretrained,
    mask_area_fraction,
    masks_to_boxes,
    resolve_device,
    resolve_dtype,
)

__all__ = [
    "DEFAULT_SAM2",
    "SAM2_STATES",
    "Propagation",
    "Sam2Config",
    "Sam2Propagator",
    "check_sam2_state",
]

DEFAULT_SAM2 = "facebook/sam2.1-hiera-large"

#: How the two propagation directions share SAM2's inference session.
SAM2_STATES = ("shared", "fresh")


def check_sam2_state(state: str) -> None:
    if state not in SAM2_STATES:
        raise ConfigError(f"sam2_state={state!r}: choose shared (ours) or fresh (the authors')")


@dataclass(frozen=True)
class Sam2Config:
    """Which SAM2 video checkpoint to run and how."""

    model: str = field(
        default=DEFAULT_SAM2,
        metadata={
            "help": (
                "Hub id or local directory of a SAM2 video checkpoint (e.g. "
                "facebook/sam2.1-hiera-tiny)"
            )
        },
    )
    mask_threshold: float = field(
        default=0.0, metadata={"help": "mask logit above which a pixel belongs to the object"}
    )
    device: str | None = field(
        default=None, metadata={"help": "torch device; None: cuda when present, else cpu"}
    )
    dtype: str = field(default="float32", metadata={"help": "float32, float16 or bfloat16"})
    state: str = field(
        default="shared",
        metadata={
            "help": "shared: backward after forward in one session; fresh: a new session per "
            "direction (the authors')",
            "choices": SAM2_STATES,
        },
    )

    def __post_init__(self) -> None:
        if not self.model:
            raise ConfigError("Sam2Config.model is empty: give a Hub id or a local directory")
        check_dtype(self.dtype)
        check_sam2_state(self.state)


@dataclass(frozen=True)
class Propagation:
    """Per object (in prompt order) and frame: box (n, T, 4; NaN when the mask is empty), the
    fraction of the frame its mask covers (n, T), which frames the tracker visited (T,), and, when
    asked for (``keep_masks``), the masks themselves (n, T, H, W; boolean)."""

    boxes: np.ndarray
    area: np.ndarray
    visited: np.ndarray
    masks: np.ndarray | None = None


class Sam2Propagator:
    """Box-prompted SAM2 video tracking, forward and backward from a key frame."""

    def __init__(self, config: Sam2Config | None = None, **options: Any) -> None:
        self.config = config or Sam2Config(**options)
        self.device = resolve_device(self.config.device)

    def settings(self) -> dict[str, Any]:
        return {**asdict(self.config), "device": self.device}

    def _load(self) -> tuple[Any, Any]:
        return load_pretrained(
            "sam2-video",
            "Sam2VideoModel",
            "Sam2VideoProcessor",
            self.config.model,
            self.device,
            self.config.dtype,
        )

    def propagate(
        self,
        frames: np.ndarray,
        key_frame: int,
        boxes: Sequence[Sequence[float]],
        keep_masks: bool = False,
    ) -> Propagation:
        """Track each box (xyxy pixels on ``key_frame``) through all of ``frames`` (T, H, W, 3);
        ``keep_masks`` also returns the masks (for depth)."""
        import torch

        arr = np.asarray(frames)
        n_frames, height, width = arr.shape[:3]
        if not 0 <= key_frame < n_frames:
            raise ConfigError(f"key frame {key_frame} is outside the video's {n_frames} frames")
        model, processor = self._load()
        out = Propagation(
            boxes=np.full((len(boxes), n_frames, 4), np.nan),
            area=np.zeros((len(boxes), n_frames)),
            visited=np.zeros(n_frames, dtype=bool),
            masks=np.zeros((len(boxes), n_frames, height, width), dtype=bool)
            if keep_masks
            else None,
        )
        session = None
        with torch.inference_mode():
            for reverse in (False, True):
                if session is None or self.config.state == "fresh":
                    session = self._session(processor, arr, key_frame, boxes)
                for step in model.propagate_in_video_iterator(
                    session, start_frame_idx=key_frame, reverse=reverse
                ):
                    masks = processor.post_process_masks(
                        [step.pred_masks],
                        original_sizes=[[height, width]],
                        mask_threshold=self.config.mask_threshold,
                        binarize=True,
                    )[0]
                    self._store(out, step.frame_idx, list(step.object_ids), len(boxes), masks)
        return out

    def _session(
        self, processor: Any, frames: np.ndarray, key_frame: int, boxes: Sequence[Sequence[float]]
    ) -> Any:
        """A new inference session over ``frames`` with the boxes as prompts on ``key_frame``
        (object ids 1, 2, ... in the order of ``boxes``)."""
        session = processor.init_video_session(
            video=list(frames), inference_device=self.device, dtype=resolve_dtype(self.config.dtype)
        )
        processor.add_inputs_to_inference_session(
            session,
            frame_idx=key_frame,
            obj_ids=list(range(1, len(boxes) + 1)),  # the session keeps (and clears) it
            input_boxes=[[[float(v) for v in box] for box in boxes]],
        )
        return session

    @staticmethod
    def _store(
        out: Propagation, frame: int, got_ids: list[int], n_objects: int, masks: Any
    ) -> None:
        binary = masks[:, 0].bool().cpu().numpy()
        boxes, area = masks_to_boxes(binary), mask_area_fraction(binary)
        for row, obj_id in enumerate(got_ids):
            k = int(obj_id) - 1
            if not 0 <= k < n_objects:
                raise DataError(f"SAM2 returned object id {obj_id}, not one of 1..{n_objects}")
            out.boxes[k, frame], out.area[k, frame] = boxes[row], area[row]
            if out.masks is not None:
                out.masks[k, frame] = binary[row]
        out.visited[frame] = True
