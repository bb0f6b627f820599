"""The evaluation models, each loaded once per process from a Hub id or a local folder through
``from_pretrained``, and run batched (on the GPU when there is one).

* :class:`IdEmbedder` — DINOv2 (``facebook/dinov2-base`` = ViT-B/14, through transformers'
  ``AutoModel``): the CLS embedding (``pooler_output``: the final-norm CLS token) of crops resized
  with their shorter side to ``crop_size`` (bicubic, antialiased, then clamped and rounded to pixel
  levels as an 8-bit image would be), center-cropped to ``crop_size``, ImageNet-normalized;
  features L2-normalized (SPEC §7).
* :class:`ClipIQA` — CLIP-IQA as torchmetrics defines it: per anchor pair (``natural``: "Natural
  photo." / "Synthetic photo."; ``quality``: "Good photo." / "Bad photo."), the softmax over
  100 × the cosine similarities of the image embedding with the two anchor texts, first entry.
  Frames go through the checkpoint's own ``CLIPImageProcessor`` once, as 8-bit images (see
  :data:`CLIP_IQA_NOTE` for where torchmetrics differs).
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
    "resolve_device",
]

log = logging.getLogger(__name__)

DEFAULT_DINO = "facebook/dinov2-base"
#: The HF CLIP nearest to what torchmetrics' CLIP-IQA examples use; the authors used torchmetrics'
#: default ``clip_iqa`` weights (piq's CLIP-IQA ResNet-50), which dsr cannot load (see the README).
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
        x = F.resize(x, self.crop_size, interpolation=InterpolationMode.BICUBIC, antialias=True)
        x = F.center_crop(x.clamp(0, 255).round(), [self.crop_size, self.crop_size]) / 255.0
        return F.normalize(x, list(IMAGENET_MEAN), list(IMAGENET_STD))

    def embed(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """L2-normalized CLS features (n, d), float64, of ``crops`` in order (batched)."""
        import torch

        out = []
        model = self.model
        with torch.inference_mode():
            for part in _batches(len(crops), self.batch_size):
                pixels = torch.stack([self.preprocess(c) for c in crops[part]]).to(model.dtype)
                cls = model(pixel_values=pixels).pooler_output.float()
                out.append(torch.nn.functional.normalize(cls, dim=-1).cpu().double().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0))


def _features(output: Any) -> Any:
    """``get_*_features`` returns a tensor (transformers 4) or an output with
    ``pooler_output`` (5)."""
    return getattr(output, "pooler_output", output)


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
        unknown = [a for a in self.anchors if a not in ANCHORS]
        if unknown or not self.anchors:
            raise ConfigError(
                f"CLIP-IQA anchors {unknown or list(self.anchors)}: choose from "
                f"{', '.join(ANCHORS)}"
            )

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
