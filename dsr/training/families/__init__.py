"""The model families ``dsr train`` trains, behind one small interface (docs/method.md §6).

``dsr train --base-model <repo or folder>`` reads the checkpoint's ``model_index.json``; its
``_class_name`` (the diffusers pipeline) picks the family:

================== ======================= ========================================================
family             pipeline                objective
================== ======================= ========================================================
``wan``            ``WanPipeline``         flow matching, velocity target ε − x0
``ltx``            ``LTXPipeline``         flow matching, velocity target ε − x0
``hunyuanvideo15`` ``HunyuanVideo15Pipeline`` flow matching, velocity target ε − x0
``cogvideox``      ``CogVideoXPipeline``   DDPM v-prediction, target √ᾱ·ε − √(1−ᾱ)·x0
================== ======================= ========================================================

Reading the pipeline class needs neither torch nor the weights: an unsupported checkpoint is
refused in one line before anything heavy.
"""

from __future__ import annotations

from dsr.errors import ModelLoadError
from dsr.training.families.base import (
    FAMILIES,
    FlowMatchingFamily,
    TrainingFamily,
    check_pixels,
    read_config,
)

__all__ = [
    "FAMILIES",
    "FlowMatchingFamily",
    "TrainingFamily",
    "check_pixels",
    "default_family",
    "family_name",
    "load_family",
    "read_config",
]


def family_name(model: str, revision: str | None = None) -> str:
    """The family of a checkpoint, from ``model_index.json``'s ``_class_name``."""
    pipeline = read_config(model, "model_index.json", revision).get("_class_name")
    if pipeline not in FAMILIES:
        raise ModelLoadError(
            f"base model {model} is a {pipeline or 'pipeline without _class_name'}, which dsr "
            f"cannot train: give a {', '.join(FAMILIES)} checkpoint"
        )
    return FAMILIES[str(pipeline)]


def load_family(model: str, revision: str | None = None) -> TrainingFamily:
    """The family of a checkpoint, configured from its config files (no weights read)."""
    name = family_name(model, revision)
    if name == "wan":
        from dsr.training.families.wan import WanFamily

        return WanFamily()
    if name == "cogvideox":
        from dsr.training.families.cogvideox import CogVideoXFamily

        return CogVideoXFamily.from_configs(model, revision)
    if name == "ltx":
        from dsr.training.families.ltx import LTXFamily

        return LTXFamily.from_configs(model, revision)
    from dsr.training.families.hunyuanvideo15 import HunyuanVideo15Family

    return HunyuanVideo15Family.from_configs(model, revision)


def default_family() -> TrainingFamily:
    """Wan, the paper's family: what code built before the families were (tests, benchmarks) gets
    when it names none."""
    from dsr.training.families.wan import WanFamily

    return WanFamily()
