"""Per-frame depth of the tracked animal and object, for prompts whose relations are placed in
depth (``front``, ``behind``; docs/method.md §3).

Three values per frame, from a distance map and the two tracked masks (pure numpy, below):

- ``animal_depth`` / ``object_depth``: the median, over the entity's mask, of the frame's
  *relative distance*: the distance map rescaled per frame to [0, 1] (0 = the nearest pixel of the
  frame, 1 = the farthest). NaN where the mask is empty or there is no depth. The median is robust
  to a mask that spills onto the background, and it commutes with any increasing transform of the
  map, so a model that knows distance only up to a monotone function orders the two entities as
  the true distance would.
- ``occlusion`` ∈ {−1, 0, +1}: where the two masks touch (pixels of one within ``band`` pixels of
  the other), the entity nearer the camera along that shared boundary is the one in front: its
  pixels hide the other's. +1 when the animal's boundary pixels are nearer than the object's by
  more than ``margin`` (the animal occludes the object), −1 for the reverse, 0 when the masks do
  not touch (fewer than ``min_contact`` pixels on either side), a mask is absent, or the depths
  agree within the margin (side by side).

Where the distance map comes from is a :class:`DepthSource`: a monocular depth model
(:class:`DepthAnythingEstimator`, Depth Anything V2 through transformers, the default
``depth-anything/Depth-Anything-V2-Small-hf``), or the synthetic world's true depth map
(:func:`annotation_distance`, for audits and offline tests).

Depth Anything V2 predicts relative *disparity* (inverse depth up to an unknown scale and shift),
so its true distance cannot be recovered; ``distance = −disparity`` is monotone in distance, and
after the per-frame rescaling 0 is the nearest pixel as the contract asks.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from dsr.errors import ConfigError
from dsr.generation.base import ENTITY_ANIMAL, ENTITY_OBJECT, Annotations
from dsr.prompts import Relation, all_relations
from dsr.scoring import DEPTH_COLUMNS
from dsr.tracking.models import (
    ModelTrackerConfig,
    check_dtype,
    load_cached,
    resolve_device,
    resolve_dtype,
)

__all__ = [
    "DEFAULT_DEPTH_MODEL",
    "DEPTH_COLUMNS",
    "DEPTH_RELATIONS",
    "DEPTH_SOURCES",
    "DepthAnythingEstimator",
    "DepthConfig",
    "DepthSource",
    "DepthTrack",
    "DepthTrackerConfig",
    "annotation_distance",
    "annotation_masks",
    "check_depth_source",
    "depth_track",
    "needs_depth",
    "occlusion_sign",
    "relative_distance",
    "video_depth",
]

#: Depth Anything V2 Small: 25 M parameters, Apache-2.0, in transformers as
#: ``DepthAnythingForDepthEstimation``; the Base/Large checkpoints load the same way.
DEFAULT_DEPTH_MODEL = "depth-anything/Depth-Anything-V2-Small-hf"
#: Relation names whose per-frame score needs depth (the registry's ``needs_depth`` relations).
DEPTH_RELATIONS = frozenset(r.value for r in all_relations() if r.spec.needs_depth)
#: Where the distance map comes from: a depth model, the generator's true depth, or none.
DEPTH_SOURCES = ("model", "annotations", "off")


def _name(relation: Any) -> str:
    return str(getattr(relation, "value", relation))


def needs_depth(prompt: Any) -> bool:
    """Whether a stage of the prompt (initial, middle or final; any object with those relation
    attributes) is a relation the registry scores with depth (``RelationSpec.needs_depth``)."""
    stages = (prompt.initial, getattr(prompt, "middle", None), prompt.final)
    return any(Relation.coerce(_name(r)).spec.needs_depth for r in stages if r is not None)


@dataclass(frozen=True)
class DepthTrack:
    """Per frame (T,): the entities' median relative distance and the occlusion sign."""

    animal_depth: np.ndarray
    object_depth: np.ndarray
    occlusion: np.ndarray

    def columns(self) -> dict[str, list[float | None]]:
        """The three track columns, NaN stored as null."""
        return {
            name: [None if math.isnan(v) else float(v) for v in getattr(self, name)]
            for name in DEPTH_COLUMNS
        }

    @classmethod
    def unavailable(cls, n: int) -> DepthTrack:
        """No depth for any of ``n`` frames: NaN depths, occlusion 0 (unknown)."""
        return cls(np.full(n, np.nan), np.full(n, np.nan), np.zeros(n))


def relative_distance(distance: np.ndarray) -> np.ndarray:
    """``distance`` (T, H, W) rescaled per frame to [0, 1]: 0 the nearest pixel, 1 the farthest.
    A flat frame (no depth contrast) is all NaN; non-finite pixels stay NaN."""
    d = np.asarray(distance, dtype=np.float32)
    lo = np.nanmin(d, axis=(1, 2), keepdims=True)
    span = np.nanmax(d, axis=(1, 2), keepdims=True) - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(span > 0, (d - lo) / span, np.nan).astype(np.float32)


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` grown by ``radius`` pixels (a square neighbourhood)."""
    out = mask.copy()
    h, w = mask.shape
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            shifted = np.zeros_like(mask)
            shifted[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = mask[
                max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
            ]
            out |= shifted
    return out


def occlusion_sign(
    rel: np.ndarray,
    animal: np.ndarray,
    obj: np.ndarray,
    band: int = 2,
    min_contact: int = 3,
    margin: float = 0.02,
) -> float:
    """+1 when the animal occludes the object in this frame, −1 the reverse, 0 no evidence
    (module docstring). ``rel`` is the frame's relative distance (H, W), the masks boolean."""
    if not animal.any() or not obj.any():
        return 0.0
    a_edge, o_edge = animal & _dilate(obj, band), obj & _dilate(animal, band)
    if a_edge.sum() < min_contact or o_edge.sum() < min_contact:
        return 0.0
    a, o = rel[a_edge], rel[o_edge]
    if not (np.isfinite(a).any() and np.isfinite(o).any()):
        return 0.0
    diff = float(np.nanmedian(o) - np.nanmedian(a))
    return 1.0 if diff > margin else (-1.0 if diff < -margin else 0.0)


def _median(rel: np.ndarray, mask: np.ndarray) -> float:
    values = rel[mask]
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else math.nan


def depth_track(
    distance: np.ndarray | None, animal_masks: np.ndarray, object_masks: np.ndarray
) -> DepthTrack:
    """The three per-frame values of a video from its distance map (T, H, W; larger is farther,
    any monotone scale; None: no depth) and the two tracked masks (T, H, W; boolean)."""
    animal, obj = np.asarray(animal_masks, dtype=bool), np.asarray(object_masks, dtype=bool)
    if distance is None:
        return DepthTrack.unavailable(len(animal))
    rel = relative_distance(distance)
    if rel.shape != animal.shape or rel.shape != obj.shape:
        raise ConfigError(
            f"depth map {rel.shape} and masks {animal.shape}/{obj.shape} differ in shape"
        )
    return DepthTrack(
        np.array([_median(r, m) for r, m in zip(rel, animal, strict=True)]),
        np.array([_median(r, m) for r, m in zip(rel, obj, strict=True)]),
        np.array([occlusion_sign(r, a, o) for r, a, o in zip(rel, animal, obj, strict=True)]),
    )


def annotation_distance(annotations: Annotations | None) -> np.ndarray | None:
    """The generator's true distance map (T, H, W), or None when it emitted none."""
    if annotations is None or annotations.depth is None:
        return None
    return np.asarray(annotations.depth, dtype=np.float32)


def annotation_masks(annotations: Annotations) -> tuple[np.ndarray, np.ndarray] | None:
    """The true visible masks (T, H, W) of the animal and the object, or None without them."""
    if annotations.entities is None:
        return None
    entities = np.asarray(annotations.entities)
    return entities == ENTITY_ANIMAL, entities == ENTITY_OBJECT


@runtime_checkable
class DepthSource(Protocol):
    """Gives a distance map (T, H, W; larger is farther, any monotone scale) for frames."""

    def settings(self) -> dict[str, Any]: ...

    def distance(self, frames: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class DepthConfig:
    """Which monocular depth model to run and how."""

    model: str = field(
        default=DEFAULT_DEPTH_MODEL,
        metadata={
            "help": "Hub id or local directory of a DepthAnythingForDepthEstimation checkpoint"
        },
    )
    revision: str | None = field(
        default=None, metadata={"help": "Hub revision (tag, branch or commit) of the depth model"}
    )
    batch_size: int = field(default=8, metadata={"help": "frames per depth forward pass"})
    device: str | None = field(
        default=None, metadata={"help": "torch device; None: cuda when present, else cpu"}
    )
    dtype: str = field(default="float32", metadata={"help": "float32, float16 or bfloat16"})

    def __post_init__(self) -> None:
        check_dtype(self.dtype)
        if self.batch_size < 1:
            raise ConfigError(f"depth batch_size={self.batch_size} must be at least 1")


class DepthAnythingEstimator:
    """Depth Anything (V1/V2) through transformers, batched over frames on one device."""

    def __init__(self, config: DepthConfig | None = None, **options: Any) -> None:
        self.config = config or DepthConfig(**options)
        self.device = resolve_device(self.config.device)

    def settings(self) -> dict[str, Any]:
        return {**asdict(self.config), "device": self.device, "output": "relative disparity"}

    def _load(self) -> tuple[Any, Any]:
        cfg = self.config

        def load(local_only: bool) -> tuple[Any, Any]:
            import transformers

            model: Any = transformers.DepthAnythingForDepthEstimation.from_pretrained(
                cfg.model,
                dtype=resolve_dtype(cfg.dtype),
                revision=cfg.revision or "main",
                local_files_only=local_only,
            )
            processor = transformers.AutoImageProcessor.from_pretrained(
                cfg.model, revision=cfg.revision or "main", local_files_only=local_only
            )
            return model.to(self.device).eval(), processor

        key = f"{cfg.model}@{cfg.revision}" if cfg.revision else cfg.model
        loaded: tuple[Any, Any] = load_cached("depth", key, self.device, cfg.dtype, load)
        return loaded

    def distance(self, frames: np.ndarray) -> np.ndarray:
        """Minus the predicted disparity, per frame at the frames' size (T, H, W; float32)."""
        import torch

        model, processor = self._load()
        arr = np.asarray(frames)
        out = np.empty(arr.shape[:3], dtype=np.float32)
        size = arr.shape[1:3]
        with torch.inference_mode():
            for start in range(0, len(arr), self.config.batch_size):
                batch = list(arr[start : start + self.config.batch_size])
                inputs = processor(images=batch, return_tensors="pt").to(self.device)
                pixels = inputs["pixel_values"].to(model.dtype)
                disparity = model(pixel_values=pixels).predicted_depth.float()
                resized = torch.nn.functional.interpolate(
                    disparity[:, None], size=size, mode="bilinear", align_corners=False
                )[:, 0]
                out[start : start + len(batch)] = -resized.cpu().numpy()
        return out


@dataclass(frozen=True)
class DepthTrackerConfig(ModelTrackerConfig):
    """The depth options every model tracker shares (run only for prompts placed in depth)."""

    depth_source: str = field(
        default="model",
        metadata={
            "help": "for prompts placed in depth (front, behind): model (run depth_model), "
            "annotations (the synthetic world's true depth map, for audits) or off",
            "choices": DEPTH_SOURCES,
        },
    )
    depth_model: str = field(
        default=DEFAULT_DEPTH_MODEL,
        metadata={"help": "Depth Anything Hub id or local directory (run only when needed)."},
    )
    depth_revision: str | None = field(
        default=None, metadata={"help": "Hub revision of the depth model [default: main]."}
    )
    depth_batch_size: int = field(default=8, metadata={"help": "Frames per depth forward pass."})

    def __post_init__(self) -> None:
        super().__post_init__()
        check_depth_source(self.depth_source)

    def depth_config(self) -> DepthConfig:
        """The depth model's settings, on the tracker's device and dtype."""
        return DepthConfig(
            model=self.depth_model,
            revision=self.depth_revision,
            batch_size=self.depth_batch_size,
            device=self.device,
            dtype=self.dtype,
        )

    def wants_depth(self, prompt: Any) -> bool:
        """Whether this prompt's video gets a depth track (placed in depth, source not off)."""
        return self.depth_source != "off" and needs_depth(prompt)


def check_depth_source(source: str) -> None:
    if source not in DEPTH_SOURCES:
        raise ConfigError(
            f"depth_source={source!r}: choose model (a depth model), annotations (the synthetic "
            "world's true depth) or off"
        )


def video_depth(
    prompt: Any,
    frames: np.ndarray,
    masks: tuple[np.ndarray, np.ndarray] | None,
    annotations: Annotations | None,
    source: str,
    estimator: DepthSource | None,
) -> DepthTrack | None:
    """The depth track of one video: None when the prompt needs no depth or ``source`` is off;
    unavailable (NaN) without masks (an untracked video) or without a true depth map."""
    if source == "off" or not needs_depth(prompt):
        return None
    n = int(np.asarray(frames).shape[0])
    if masks is None:
        return DepthTrack.unavailable(n)
    distance = annotation_distance(annotations) if source == "annotations" else None
    if source == "model" and estimator is not None:
        distance = estimator.distance(frames)  # only the frames of a prompt that needs depth
    if distance is not None and len(distance) != n:
        return DepthTrack.unavailable(n)
    return depth_track(distance, *masks)
