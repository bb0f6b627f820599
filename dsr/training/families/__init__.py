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

import json
from pathlib import Path
from typing import Any

from dsr.errors import ModelLoadError
from dsr.training.families.base import FlowMatchingFamily, TrainingFamily, check_pixels

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

#: diffusers pipeline class → family name.
FAMILIES = {
    "WanPipeline": "wan",
    "CogVideoXPipeline": "cogvideox",
    "LTXPipeline": "ltx",
    "HunyuanVideo15Pipeline": "hunyuanvideo15",
}


def read_config(
    model: str, filename: str, revision: str | None = None, what: str = "base model"
) -> dict[str, Any]:
    """One JSON file of a pipeline folder or Hub repo (``model_index.json``,
    ``transformer/config.json``...), fetched alone for a Hub id."""
    local = Path(model).expanduser()
    path = local / filename if local.is_dir() else _hub_file(model, filename, revision, what)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ModelLoadError(
            f"{what} {model} has no readable {filename}: give the folder or Hub id of a diffusers "
            f"text-to-video pipeline ({', '.join(FAMILIES)})"
        ) from None
    return dict(data)


def _hub_file(model: str, filename: str, revision: str | None, what: str) -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    from dsr.model_loading import hub_model

    try:
        validate_repo_id(model)
    except HFValidationError:
        raise ModelLoadError(
            f"{what} {model} is neither a folder nor a Hub repo id: give the folder of a diffusers "
            "pipeline or an id like Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
        ) from None
    with hub_model(what, model, "--base-model PATH") as cache_only:
        return Path(
            hf_hub_download(model, filename, revision=revision, local_files_only=cache_only)
        )


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
