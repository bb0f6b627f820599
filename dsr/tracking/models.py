"""Shared plumbing of the model-based trackers: device and dtype, a per-process model cache, and
the pure-numpy conversion of masks to boxes.

Models are loaded once per process and reused across samples: the cache key is
``(loader, model id, device, dtype)``, so two trackers that name the same checkpoint share it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dsr.errors import ConfigError
from dsr.model_loading import hub_model
from dsr.scoring.validity import ValidityConfig

if TYPE_CHECKING:
    import torch

__all__ = [
    "DTYPES",
    "clear_model_cache",
    "load_cached",
    "load_pretrained",
    "lost_track_frames",
    "mask_area_fraction",
    "masks_to_boxes",
    "resolve_device",
    "resolve_dtype",
]

log = logging.getLogger(__name__)

#: dtype names accepted by the tracker configs.
DTYPES = ("float32", "float16", "bfloat16")

_CACHE: dict[tuple[str, str, str, str], Any] = {}


def resolve_device(device: str | None) -> str:
    """``None``/"auto" → this process's GPU when one is present (``cuda:<LOCAL_RANK>`` under
    torchrun/accelerate, so ranks on one node do not share a device), else "cpu"; anything else
    unchanged."""
    if device in (None, "", "auto"):
        import torch

        if not torch.cuda.is_available():
            return "cpu"
        return f"cuda:{int(os.environ.get('LOCAL_RANK', 0)) % torch.cuda.device_count()}"
    return str(device)


def resolve_dtype(name: str) -> torch.dtype:
    """The torch dtype object of ``name`` (sessions need the object, not the string)."""
    import torch

    if name not in DTYPES:
        raise ConfigError(f"dtype {name!r} is not supported: choose one of {', '.join(DTYPES)}")
    return getattr(torch, name)


@dataclass(frozen=True)
class ModelTrackerConfig:
    """Settings every model-based tracker shares: device, dtype and the validity rules."""

    device: str | None = field(
        default=None,
        metadata={"help": "torch device [default: cuda:<LOCAL_RANK> when present, else cpu]."},
    )
    dtype: str = field(default="float32", metadata={"help": "Model dtype.", "choices": DTYPES})
    validity: ValidityConfig = field(
        default_factory=ValidityConfig, metadata={"help": "frame-count rules of docs/method.md §3"}
    )

    def __post_init__(self) -> None:
        if isinstance(self.validity, dict):  # from a CLI/JSON option
            object.__setattr__(self, "validity", ValidityConfig(**self.validity))
        check_dtype(self.dtype)


def check_dtype(name: str) -> None:
    """Validate a dtype name without importing torch (for config ``__post_init__``)."""
    if name not in DTYPES:
        raise ConfigError(f"dtype {name!r} is not supported: choose one of {', '.join(DTYPES)}")


#: model kind → the CLI option that picks another checkpoint (named in load errors).
_OPTIONS = {
    "grounding": "--detector",
    "sam2-video": "--sam2",
    "sam3-video": "--sam3",
    "depth": "--tracker-opt depth_model=...",
}
#: How to track without any model (named when a model cannot be had).
OFFLINE_TRACKER = "run with --tracker annotations (synthetic videos: their stored ground truth)"


def load_cached(
    kind: str, model_id: str, device: str, dtype: str, loader: Callable[[bool], Any]
) -> Any:
    """``loader(local_files_only)`` once per (kind, model id, device, dtype) in this process;
    later calls reuse it.

    A checkpoint that cannot be loaded raises :class:`ModelLoadError` naming it and the option;
    with the Hub unreachable it fails at once (:func:`dsr.model_loading.hub_model`).
    """
    key = (kind, str(model_id), device, dtype)
    if key not in _CACHE:
        log.info("loading %s %s on %s (%s)", kind, model_id, device, dtype)
        option = _OPTIONS.get(kind, "--tracker-opt")
        with hub_model(f"{kind} model", str(model_id), option, OFFLINE_TRACKER) as local_only:
            _CACHE[key] = loader(local_only)
    return _CACHE[key]


def load_pretrained(
    kind: str, model_class: str, processor_class: str, model_id: str, device: str, dtype: str
) -> tuple[Any, Any]:
    """``(model, processor)`` of the transformers classes named ``model_class`` and
    ``processor_class`` from ``model_id`` (a Hub id or a local directory): the model in ``dtype``
    on ``device``, in eval mode; loaded once per process (:func:`load_cached`)."""

    def load(local_only: bool) -> tuple[Any, Any]:
        import transformers

        model = getattr(transformers, model_class).from_pretrained(
            model_id, dtype=resolve_dtype(dtype), local_files_only=local_only
        )
        processor = getattr(transformers, processor_class).from_pretrained(
            model_id, local_files_only=local_only
        )
        return model.to(device).eval(), processor

    loaded: tuple[Any, Any] = load_cached(kind, model_id, device, dtype, load)
    return loaded


def clear_model_cache() -> None:
    """Forget every cached model (frees memory once the last reference is gone)."""
    _CACHE.clear()


def masks_to_boxes(masks: np.ndarray) -> np.ndarray:
    """Tight xyxy boxes (N, 4) of boolean masks (N, H, W); NaN rows for empty masks.

    Inclusive pixel extent, as ``torchvision.ops.masks_to_boxes``: a mask covering columns 3..7
    has x1 = 3 and x2 = 7 (the index of the last pixel, not one past it).
    """
    arr = np.asarray(masks, dtype=bool)
    if arr.ndim != 3:
        raise ValueError(f"masks must have shape (N, H, W), got {arr.shape}")
    out = np.full((arr.shape[0], 4), np.nan)
    rows, cols = np.asarray(arr.any(axis=2)), np.asarray(arr.any(axis=1))
    for i in range(arr.shape[0]):
        ys, xs = np.flatnonzero(rows[i]), np.flatnonzero(cols[i])
        if ys.size:
            out[i] = (xs[0], ys[0], xs[-1], ys[-1])
    return out


def mask_area_fraction(masks: np.ndarray) -> np.ndarray:
    """Fraction of the frame each mask (N, H, W) covers."""
    arr = np.asarray(masks, dtype=bool)
    return arr.reshape(arr.shape[0], -1).mean(axis=1) if arr.size else np.zeros(arr.shape[0])


def lost_track_frames(area: np.ndarray, max_fraction: float, key_frame: int) -> np.ndarray:
    """Frames whose mask suddenly covers most of the frame: a lost track, not the object.

    A frame is lost when its mask covers more than ``max_fraction`` of the frame while the mask at
    the key frame (where the detector saw the object) did not. An object that really fills the
    frame from the key frame on is kept. ``max_fraction`` 1.0 turns the rule off (no frame is lost,
    as in the authors' code).
    """
    frac = np.nan_to_num(np.asarray(area, dtype=float), nan=0.0)
    if frac.size == 0 or max_fraction >= 1.0 or frac[key_frame] > max_fraction:
        return np.zeros(frac.shape, dtype=bool)
    return frac > max_fraction
