"""The evaluation models, each loaded once per process from a Hub id or a local folder through
``from_pretrained``, and run batched (on the GPU when there is one).

* :class:`IdEmbedder` — DINOv2 (``facebook/dinov2-base`` = ViT-B/14, through transformers'
  ``AutoModel``): the CLS embedding (``pooler_output``: the final-norm CLS token) of crops as
  float pixels in [0, 1], resized with their shorter side to ``crop_size`` (bicubic, antialiased;
  no clamping or rounding, as the authors' tensor transforms), center-cropped to ``crop_size``,
  ImageNet-normalized; features L2-normalized (docs/method.md §7). ``round_to_8bit`` gives dsr's
  earlier variant: the resized crop clamped and rounded to 8-bit levels.
* :class:`ClipIQA` — the ``hf-clip`` CLIP-IQA variant: torchmetrics' formula (per anchor pair,
  ``natural``: "Natural photo." / "Synthetic photo."; ``quality``: "Good photo." / "Bad photo.",
  the softmax over 100 × the cosine similarities of the image embedding with the two anchor
  texts, first entry) on a Hugging Face CLIP, frames through the checkpoint's own
  ``CLIPImageProcessor`` once, as 8-bit images (see :data:`CLIP_IQA_NOTE`). The authors' variant
  is :class:`dsr.evaluation.clip_iqa.PiqClipIQA`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dsr.errors import ConfigError
from dsr.model_loading import hub_model

__all__ = [
    "ANCHORS",
    "CLIP_IQA_NOTE",
    "DEFAULT_CLIP",
    "DEFAULT_DINO",
    "ClipIQA",
    "IdEmbedder",
    "check_anchors",
    "resolve_device",
]

log = logging.getLogger(__name__)

DEFAULT_DINO = "facebook/dinov2-base"
#: The HF CLIP of the ``hf-clip`` variant (torchmetrics' CLIP-IQA examples use it); the authors used
#: torchmetrics' default ``clip_iqa`` model, piq's CLIP ResNet-50 (:mod:`dsr.evaluation.clip_iqa`).
DEFAULT_CLIP = "openai/clip-vit-base-patch16"
#: torchmetrics' anchor pairs (``torchmetrics.functional.multimodal.clip_iqa._PROMPTS``)
#: used by the paper.
ANCHORS: dict[str, tuple[str, str]] = {
    "natural": ("Natural photo.", "Synthetic photo."),
    "quality": ("Good photo.", "Bad photo."),
}
CLIP_IQA_NOTE = (
    "torchmetrics 1.9 sends frames already divided by data_range through CLIPProcessor, which "
    "divides by 255 again (and its transformers path fails with transformers 5); dsr gives the "
    "processor 8-bit frames, so it rescales once"
)
#: How to evaluate without any model (named when a model cannot be had).
OFFLINE_METRICS = "run with --metrics dsr (the DSR metrics need no model)"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def resolve_device(device: str | None, device_index: int | None = None) -> str:
    """``device`` if given, else ``cuda:<device_index or 0>`` when CUDA is there, else ``cpu``."""
    import torch

    if device:
        return device
    return f"cuda:{device_index or 0}" if torch.cuda.is_available() else "cpu"


def _dtype(name: str, device: str) -> Any:
    import torch

    if name == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    if name not in ("float32", "float16", "bfloat16"):
        raise ConfigError(f"dtype={name!r}: choose auto, float32, float16 or bfloat16")
    return getattr(torch, name)


def _batches(n: int, size: int) -> Iterable[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


@dataclass
class IdEmbedder:
    """DINOv2 CLS features of animal crops (loaded on first use)."""

    model_id: str = DEFAULT_DINO
    crop_size: int = 518
    batch_size: int = 64
    device: str = "cpu"
    dtype: str = "float32"
    round_to_8bit: bool = False
    _model: Any = field(default=None, repr=False)

    @property
    def model(self) -> Any:
        if self._model is None:
            from transformers import AutoModel

            with hub_model("DINOv2 model", self.model_id, "--dino PATH", OFFLINE_METRICS) as local:
                self._model = AutoModel.from_pretrained(
                    self.model_id, dtype=_dtype(self.dtype, self.device), local_files_only=local
                )
            self._model.to(self.device).eval()
        return self._model

    def preprocess(self, crop: np.ndarray) -> Any:
        """One crop (H, W, 3) uint8 → normalized (3, S, S) float32 tensor on the device."""
        import torch
        from torchvision.transforms.v2 import InterpolationMode
        from torchvision.transforms.v2 import functional as F

        x = torch.from_numpy(np.ascontiguousarray(crop)).to(self.device).permute(2, 0, 1).float()
        size, side = self.crop_size, [self.crop_size, self.crop_size]
        if self.round_to_8bit:
            x = F.resize(x, size, interpolation=InterpolationMode.BICUBIC, antialias=True)
            x = F.center_crop(x.clamp(0, 255).round(), side) / 255.0
        else:  # the authors: frame / 255, then the tensor transforms
            x = F.resize(x / 255.0, size, interpolation=InterpolationMode.BICUBIC, antialias=True)
            x = F.center_crop(x, side)
        return F.normalize(x, list(IMAGENET_MEAN), list(IMAGENET_STD))

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """L2-normalized CLS features (n, d), float64, of ``crops`` in order (batched)."""
        import torch

        from dsr.evaluation.pooling import dinov2_cls

        out = []
        model = self.model
        with torch.inference_mode():
            for part in _batches(len(crops), self.batch_size):
                pixels = torch.stack([self.preprocess(c) for c in crops[part]]).to(model.dtype)
                cls = dinov2_cls(model, pixels).float()
                out.append(torch.nn.functional.normalize(cls, dim=-1).cpu().double().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0))


def _features(output: Any) -> Any:
    """``get_*_features`` returns a tensor (transformers 4) or an output with
    ``pooler_output`` (5)."""
    return getattr(output, "pooler_output", output)


def check_anchors(anchors: tuple[str, ...]) -> None:
    """Refuse CLIP-IQA anchor pairs that are not in :data:`ANCHORS` (or none at all)."""
    unknown = [a for a in anchors if a not in ANCHORS]
    if unknown or not anchors:
        raise ConfigError(
            f"CLIP-IQA anchors {unknown or list(anchors)}: choose from {', '.join(ANCHORS)}"
        )


@dataclass
class ClipIQA:
    """CLIP-IQA scores of frames for the chosen anchor pairs (loaded on first use)."""

    model_id: str = DEFAULT_CLIP
    anchors: tuple[str, ...] = ("natural", "quality")
    batch_size: int = 64
    device: str = "cpu"
    dtype: str = "float32"
    _model: Any = field(default=None, repr=False)
    _processor: Any = field(default=None, repr=False)
    _anchor_features: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        check_anchors(self.anchors)

    def _load(self) -> None:
        import torch
        from transformers import CLIPModel, CLIPProcessor

        with hub_model("CLIP model", self.model_id, "--clip PATH", OFFLINE_METRICS) as local:
            self._model = CLIPModel.from_pretrained(
                self.model_id, dtype=_dtype(self.dtype, self.device), local_files_only=local
            )
            self._processor = CLIPProcessor.from_pretrained(self.model_id, local_files_only=local)
        self._model.to(self.device).eval()
        texts = [text for name in self.anchors for text in ANCHORS[name]]
        tokens = self._processor.tokenizer(texts, padding=True, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            anchors = _features(self._model.get_text_features(**tokens)).float()
        self._anchor_features = torch.nn.functional.normalize(anchors, dim=-1)

    def scores(self, frames: np.ndarray) -> np.ndarray:
        """(n, len(anchors)) CLIP-IQA scores of uint8 frames (n, H, W, 3), batched."""
        import torch

        if self._model is None:
            self._load()
        out = []
        with torch.inference_mode():
            for part in _batches(len(frames), self.batch_size):
                images = (
                    torch.from_numpy(np.ascontiguousarray(frames[part]))
                    .to(self.device)
                    .permute(0, 3, 1, 2)
                )
                pixels = self._processor.image_processor(images=images, return_tensors="pt")[
                    "pixel_values"
                ]
                feats = _features(
                    self._model.get_image_features(
                        pixel_values=pixels.to(self.device, self._model.dtype)
                    )
                )
                feats = torch.nn.functional.normalize(feats.float(), dim=-1)
                logits = 100.0 * feats @ self._anchor_features.t()
                out.append(
                    logits.view(len(feats), -1, 2).softmax(-1)[..., 0].cpu().double().numpy()
                )
        return np.concatenate(out) if out else np.zeros((0, len(self.anchors)))
