"""The per-video model metrics behind one small Protocol: a group of decoded videos (with their
sample rows) in, one dict of values per video out. Each is built once per process from the
:class:`~dsr.evaluation.config.EvalConfig` and runs all crops or frames of the group batched."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from dsr.errors import DataError
from dsr.evaluation.config import EvalConfig
from dsr.evaluation.frames import (
    AUTHORS_MIN_CROPS,
    animal_crops,
    authors_crop_frames,
    id_consistency,
)
from dsr.evaluation.models import CLIP_IQA_NOTE, ClipIQA, IdEmbedder

__all__ = ["COLUMNS", "ClipIQAMetric", "IdConsistencyMetric", "VideoMetric", "make_metrics"]

#: metric → the per-sample columns it fills.
COLUMNS: dict[str, tuple[str, ...]] = {"id": ("id_consistency",), "iq": ("imaging_quality",)}


class VideoMetric(Protocol):
    name: str

    def settings(self) -> dict[str, Any]:
        """What decides the values (weights, sizes, dtype): recorded and checked on resume."""
        ...

    def values(
        self, rows: Sequence[Mapping[str, Any]], videos: Sequence[np.ndarray]
    ) -> list[dict[str, float | None]]:
        """One dict of values per video (None where the metric does not apply)."""
        ...


def _split(flat: np.ndarray, counts: Sequence[int]) -> list[np.ndarray]:
    return np.split(flat, np.cumsum(counts)[:-1]) if counts else []


class IdConsistencyMetric:
    """docs/method.md §7: DINOv2 CLS features of the animal's crops (:mod:`dsr.evaluation.frames`
    says which crops each variant takes)."""

    name = "id"

    def __init__(self, config: EvalConfig, device: str) -> None:
        self.variant = config.id_variant
        self.embedder = IdEmbedder(
            config.dino,
            crop_size=config.id_crop_size,
            batch_size=config.batch_size,
            device=device,
            dtype=config.dtype,
            round_to_8bit=self.variant == "time-order",
        )

    def settings(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "model": self.embedder.model_id,
            "crop_size": self.embedder.crop_size,
            "dtype": self.embedder.dtype,
            "features": "CLS (pooler_output), L2-normalized",
        }

    def _crops(self, row: Mapping[str, Any], video: np.ndarray) -> list[np.ndarray]:
        animal, obj = row["animal_boxes"], row["object_boxes"]
        if self.variant == "time-order":
            return animal_crops(video, animal, obj) if row.get("valid") else []
        if "key_frame" not in row:
            raise DataError(
                f"sample {row.get('sample_id')} has no key_frame column, which the authors' ID "
                "consistency starts from: rebuild the samples with this dsr, or use "
                "--id-variant time-order"
            )
        order = authors_crop_frames(animal, obj, row["key_frame"])
        crops = animal_crops(video, animal, obj, order)
        return crops if len(crops) >= AUTHORS_MIN_CROPS else []

    def values(
        self, rows: Sequence[Mapping[str, Any]], videos: Sequence[np.ndarray]
    ) -> list[dict[str, float | None]]:
        crops = [self._crops(r, v) for r, v in zip(rows, videos, strict=True)]
        flat = [c for per_video in crops for c in per_video]
        feats = self.embedder.embed(flat) if flat else np.zeros((0, 1))
        return [
            {"id_consistency": id_consistency(f)} for f in _split(feats, [len(c) for c in crops])
        ]


class ClipIQAMetric:
    """CLIP-IQA of every frame, averaged per video, for each anchor pair (the authors' piq
    ResNet-50 on whole frames, or a Hugging Face CLIP)."""

    name = "clip_iqa"

    def __init__(self, config: EvalConfig, device: str) -> None:
        self.variant = config.clip_iqa_variant
        self.weights = config.clip_iqa_weights
        kw: dict[str, Any] = {
            "anchors": tuple(config.clip_anchors),
            "batch_size": config.batch_size,
            "device": device,
            "dtype": config.dtype,
        }
        if self.variant == "authors":
            from dsr.evaluation.clip_iqa import PiqClipIQA

            self.iqa: Any = PiqClipIQA(config.clip_iqa_weights, **kw)
        else:
            self.iqa = ClipIQA(config.clip, **kw)

    def settings(self) -> dict[str, Any]:
        common = {
            "variant": self.variant,
            "anchors": list(self.iqa.anchors),
            "dtype": self.iqa.dtype,
        }
        if self.variant == "authors":
            from dsr.evaluation.clip_iqa import weights_id

            return {
                **common,
                "model": "torchmetrics clip_iqa: piq CLIP ResNet-50",
                "weights": weights_id(self.weights),
                "score": "softmax(100 * cos(image, [positive, negative]))[0] of the whole frame "
                "in [0, 1], mean over all frames",
            }
        return {
            **common,
            "model": self.iqa.model_id,
            "score": "softmax(100 * cos(image, [positive, negative]))[0], mean over all frames",
            "note": CLIP_IQA_NOTE,
        }

    def values(
        self, rows: Sequence[Mapping[str, Any]], videos: Sequence[np.ndarray]
    ) -> list[dict[str, float | None]]:
        if len({v.shape[1:] for v in videos}) == 1:  # one batch stream over all frames of the group
            per_video = _split(
                self.iqa.scores(np.concatenate(list(videos))), [len(v) for v in videos]
            )
        else:  # frames of different sizes cannot share a tensor
            per_video = [self.iqa.scores(v) for v in videos]
        return [
            {f"clip_iqa_{a}": float(s[:, i].mean()) for i, a in enumerate(self.iqa.anchors)}
            for s in per_video
        ]


def make_metrics(config: EvalConfig, device: str) -> list[VideoMetric]:
    """The model metrics the config asks for (models are loaded on first use)."""
    out: list[VideoMetric] = []
    for name in config.model_metrics:
        if name == "id":
            out.append(IdConsistencyMetric(config, device))
        elif name == "clip_iqa":
            out.append(ClipIQAMetric(config, device))
        elif name == "iq":
            from dsr.evaluation.imaging_quality import ImagingQualityMetric

            out.append(ImagingQualityMetric(config, device))
    return out


def columns(config: EvalConfig) -> list[str]:
    """The per-sample value columns of the config's model metrics."""
    out = []
    for name in config.model_metrics:
        out += (
            [f"clip_iqa_{a}" for a in config.clip_anchors]
            if name == "clip_iqa"
            else list(COLUMNS[name])
        )
    return out
