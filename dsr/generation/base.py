"""The video generator interface: a prompt and seeds in, seeded videos out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from dsr.prompts import DSRPrompt
from dsr.registry import Registry

__all__ = ["GENERATORS", "Annotations", "GeneratedVideo", "VideoGenerator"]


@dataclass(frozen=True)
class Annotations:
    """Ground truth emitted by a generator that knows its scene (e.g. ``synthetic``).

    ``detections[t]`` lists ``(label, (x1, y1, x2, y2))`` for every visible entity in frame ``t``
    (the animal, the object, distractors); ``animal_boxes``/``object_boxes`` are the true boxes of
    the prompt's animal and object, shape (T, 4), NaN rows where absent.
    """

    detections: tuple[tuple[tuple[str, tuple[float, float, float, float]], ...], ...]
    animal_boxes: np.ndarray
    object_boxes: np.ndarray
    scenario: str = ""


@dataclass(frozen=True)
class GeneratedVideo:
    """One generated sample: uint8 frames (T, H, W, 3), its seed and the settings that made it."""

    frames: np.ndarray
    fps: int
    seed: int
    settings: dict[str, Any] = field(default_factory=dict)
    annotations: Annotations | None = None


@runtime_checkable
class VideoGenerator(Protocol):
    """Generates seeded videos; the seed alone must reproduce a sample."""

    name: str

    def settings(self) -> dict[str, Any]:
        """The resolved settings stored with every sample (JSON-serializable)."""
        ...

    def generate(self, prompt: DSRPrompt, seeds: Sequence[int]) -> list[GeneratedVideo]:
        """One video per seed, in the order of ``seeds``."""
        ...


GENERATORS = Registry(
    "generator",
    {
        "synthetic": "dsr.generation.synthetic:SyntheticGenerator",
        "wan": "dsr.generation.wan:WanGenerator",
        "cogvideox": "dsr.generation.families:CogVideoXGenerator",
        "ltx": "dsr.generation.families:LTXGenerator",
        "hunyuanvideo15": "dsr.generation.families:HunyuanVideo15Generator",
    },
)
