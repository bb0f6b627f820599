"""Imaging quality as VBench defines it (optional: ``pip install 'spatialalign[quality]'``).

VBench's ``imaging_quality`` dimension scores every frame with MUSIQ trained on SPAQ (pyiqa's
``MUSIQ`` architecture, checkpoint ``musiq_spaq_ckpt-358bb6af.pth``), after its default
``longer`` preprocessing: a frame whose longer side exceeds 512 is resized (bilinear, no
antialiasing, as ``torchvision.transforms.Resize(antialias=False)``) to ``int(scale·h) ×
int(scale·w)`` with ``scale = 512 / max(h, w)``, then divided by 255. A video's value is the mean
frame score / 100 (VBench divides the model mean by 100; per video the same scale is used here).

The weights are never downloaded by dsr: give the checkpoint file (``--iq-weights``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dsr.errors import ConfigError, model_load_errors
from dsr.evaluation.config import EvalConfig

__all__ = ["LONGER_SIDE", "ImagingQualityMetric", "vbench_frames"]

#: VBench's ``longer`` preprocessing bound.
LONGER_SIDE = 512


def vbench_frames(video: np.ndarray, device: str = "cpu") -> Any:
    """uint8 frames (T, H, W, 3) → float (T, 3, H', W') in [0, 1] as VBench's ``longer`` mode."""
    import torch
    from torchvision.transforms.v2 import functional as F

    x = torch.from_numpy(np.ascontiguousarray(video)).to(device).permute(0, 3, 1, 2)
    h, w = x.shape[-2:]
    if max(h, w) > LONGER_SIDE:
        scale = LONGER_SIDE / max(h, w)
        x = F.resize(x, [int(scale * h), int(scale * w)], antialias=False)
    return x.float() / 255.0


def _musiq() -> Any:
    try:
        from pyiqa.archs.musiq_arch import MUSIQ
    except ImportError:
        raise ConfigError(
            "--metrics iq needs pyiqa (MUSIQ): pip install 'spatialalign[quality]', or leave iq "
            "out of --metrics"
        ) from None
    return MUSIQ


class ImagingQualityMetric:
    """MUSIQ (SPAQ) score of every frame / 100, averaged per video."""

    name = "iq"

    def __init__(self, config: EvalConfig, device: str, *, model: Any = None) -> None:
        self.weights = config.iq_weights
        self.batch_size = config.batch_size
        self.device = device
        self._model = model

    @property
    def model(self) -> Any:
        if self._model is None:
            musiq = _musiq()
            with model_load_errors("MUSIQ checkpoint", str(self.weights), "--iq-weights PATH"):
                self._model = musiq(pretrained_model_path=self.weights)
            self._model.to(self.device).eval()
        return self._model

    def settings(self) -> dict[str, Any]:
        return {
            "model": "MUSIQ (pyiqa.archs.musiq_arch)",
            "weights": self.weights,
            "preprocessing": "VBench longer, 512",
            "scale": "frame score / 100",
        }

    def values(
        self, rows: Sequence[Mapping[str, Any]], videos: Sequence[np.ndarray]
    ) -> list[dict[str, float | None]]:
        import torch

        out: list[dict[str, float | None]] = []
        with torch.inference_mode():
            for video in videos:
                frames = vbench_frames(video, self.device)
                scores = [
                    self.model(frames[i : i + self.batch_size]).reshape(-1).float().cpu()
                    for i in range(0, len(frames), self.batch_size)
                ]
                out.append({"imaging_quality": float(torch.cat(scores).mean()) / 100.0})
        return out
