"""SpatialAlign training: DPO with the zeroth-order regularizer on DSR-Score preference pairs.

Names are imported lazily, so ``import dsr.training`` (and ``dsr train --help``) stays cheap; torch,
transformers and diffusers load when a name that needs them is first used.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "DEFAULT_LORA_TARGETS",
    "PairDraws",
    "PairSet",
    "SpatialAlignConfig",
    "SpatialAlignOptions",
    "SpatialAlignTrainer",
    "TrainResult",
    "draw_sigma",
    "dpo_zo_loss",
    "load_pair_set",
    "resolve_dataset",
    "train",
    "training_sigmas",
]

_WHERE = {
    "DEFAULT_LORA_TARGETS": "options",
    "SpatialAlignOptions": "options",
    "SpatialAlignConfig": "config",
    "SpatialAlignTrainer": "trainer",
    "PairDraws": "dataset",
    "PairSet": "data",
    "load_pair_set": "data",
    "resolve_dataset": "data",
    "TrainResult": "run",
    "train": "run",
    "dpo_zo_loss": "loss",
    "draw_sigma": "timesteps",
    "training_sigmas": "timesteps",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'dsr.training' has no attribute {name!r}")
    return getattr(importlib.import_module(f"dsr.training.{_WHERE[name]}"), name)
