"""Open-vocabulary detection on every frame with Grounding DINO (docs/method.md §3).

Any transformers zero-shot detection checkpoint that speaks the Grounding DINO protocol works
(``IDEA-Research/grounding-dino-tiny`` by default, MM-Grounding-DINO checkpoints too), from a Hub id
or a local directory. The text is ``"<animal>. <object>."``; frames go through the model in
batches, straight from memory (the reference pipeline writes every frame to a JPEG first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from dsr.errors import ConfigError
from dsr.generation.base import Annotations
from dsr.limits import MAX_BATCH_SIZE, check_max
from dsr.scoring.geometry import box_tuple
from dsr.tracking.base import Detection
from dsr.tracking.models import check_dtype, load_pretrained, resolve_device

__all__ = [
    "DEFAULT_DETECTOR",
    "AnnotationDetector",
    "Detector",
    "FrameDetections",
    "GroundingConfig",
    "GroundingDetector",
    "detection_text",
]

DEFAULT_DETECTOR = "IDEA-Research/grounding-dino-tiny"

#: Per frame, the detections of that frame.
FrameDetections = tuple[tuple[Detection, ...], ...]


def detection_text(animal: str, obj: str) -> str:
    """The detector's text query: ``"cat. bench."`` (lower case, one phrase per noun)."""
    return f"{animal.strip().lower()}. {obj.strip().lower()}."


@runtime_checkable
class Detector(Protocol):
    """Per-frame detections of the prompt's two nouns."""

    def settings(self) -> dict[str, Any]: ...

    def detect(
        self, frames: np.ndarray, animal: str, obj: str, annotations: Annotations | None = None
    ) -> FrameDetections: ...


@dataclass(frozen=True)
class GroundingConfig:
    """Which Grounding DINO to run and how."""

    model: str = field(
        default=DEFAULT_DETECTOR,
        metadata={"help": "Hub id or local directory of a Grounding DINO checkpoint"},
    )
    box_threshold: float = field(
        default=0.4, metadata={"help": "keep a box when its best token probability exceeds this"}
    )
    text_threshold: float = field(
        default=0.3, metadata={"help": "tokens above this probability form a box's label"}
    )
    batch_size: int = field(default=8, metadata={"help": "frames per forward pass"})
    device: str | None = field(
        default=None, metadata={"help": "torch device; None: cuda when present, else cpu"}
    )
    dtype: str = field(default="float32", metadata={"help": "float32, float16 or bfloat16"})

    def __post_init__(self) -> None:
        for name in ("box_threshold", "text_threshold"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(
                    f"GroundingConfig.{name}={getattr(self, name)} must lie in [0, 1] "
                    "(paper: 0.4 / 0.3)"
                )
        if self.batch_size < 1:
            raise ConfigError(f"GroundingConfig.batch_size={self.batch_size} must be ≥ 1")
        check_max("GroundingConfig.batch_size", self.batch_size, MAX_BATCH_SIZE, "default 8")
        if not self.model:
            raise ConfigError("GroundingConfig.model is empty: give a Hub id or a local directory")
        check_dtype(self.dtype)


class GroundingDetector:
    """Grounding DINO over batches of in-memory frames."""

    def __init__(self, config: GroundingConfig | None = None, **options: Any) -> None:
        self.config = config or GroundingConfig(**options)
        self.device = resolve_device(self.config.device)

    def settings(self) -> dict[str, Any]:
        out = asdict(self.config)
        out.update(device=self.device, text="<animal>. <object>.")
        return out

    def _load(self) -> tuple[Any, Any]:
        return load_pretrained(
            "grounding",
            "AutoModelForZeroShotObjectDetection",
            "AutoProcessor",
            self.config.model,
            self.device,
            self.config.dtype,
        )

    def detect(
        self, frames: np.ndarray, animal: str, obj: str, annotations: Annotations | None = None
    ) -> FrameDetections:
        """Detections of ``animal`` and ``obj`` in every frame of uint8 ``frames`` (T, H, W, 3)."""
        arr = np.asarray(frames)
        if arr.ndim != 4 or arr.shape[-1] != 3:
            raise ConfigError(f"frames must have shape (T, H, W, 3), got {arr.shape}")
        text = detection_text(animal, obj)
        out: list[tuple[Detection, ...]] = []
        for start in range(0, arr.shape[0], self.config.batch_size):
            out.extend(self._detect_batch(arr[start : start + self.config.batch_size], text))
        return tuple(out)

    def _detect_batch(self, batch: np.ndarray, text: str) -> list[tuple[Detection, ...]]:
        import torch

        model, processor = self._load()
        inputs = processor(images=list(batch), text=[text] * len(batch), return_tensors="pt").to(
            self.device
        )
        inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
        with torch.inference_mode():
            outputs = model(**inputs)
        results = processor.post_process_grounded_object_detection(
            outputs,
            inputs["input_ids"],
            threshold=self.config.box_threshold,
            text_threshold=self.config.text_threshold,
            target_sizes=[batch.shape[1:3]] * len(batch),
        )
        return [_frame_detections(r) for r in results]


def _frame_detections(result: dict[str, Any]) -> tuple[Detection, ...]:
    boxes = result["boxes"].float().cpu().numpy()
    scores = result["scores"].float().cpu().numpy()
    labels = result["text_labels"]
    return tuple(
        Detection(str(label).strip(), box_tuple(box), float(score))
        for label, box, score in zip(labels, boxes, scores, strict=True)
    )


class AnnotationDetector:
    """Detections read from a generator's ground truth (synthetic videos).

    Lets an audit separate the video tracker's error from the detector's, and lets tests drive
    the whole grounded pipeline with known detections.
    """

    def settings(self) -> dict[str, Any]:
        return {"model": "annotations"}

    def detect(
        self, frames: np.ndarray, animal: str, obj: str, annotations: Annotations | None = None
    ) -> FrameDetections:
        if annotations is None:
            return tuple(() for _ in range(len(frames)))
        return tuple(
            tuple(Detection(label, box_tuple(box)) for label, box in frame)
            for frame in annotations.detections
        )


def detections_to_labels(detections: Sequence[Sequence[Detection]]) -> list[list[str]]:
    """Per frame, the labels of its detections (the input of ``classify_frames``)."""
    return [[d.label for d in frame] for frame in detections]
