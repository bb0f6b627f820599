"""What the trainer asks of a model family (docs/method.md §6), and the flow-matching default.

A :class:`TrainingFamily` answers, for one diffusers text-to-video pipeline, the questions on
which SpatialAlign's training differs between models: how the VAE latents are normalized, how a
prompt is encoded (which encoder, which tensors the transformer takes), how a clean latent is
noised at a drawn timestep and what the prediction target is, which timesteps are drawn, how the
transformer is called, and which modules are "the text projection and the cross-attention keys
and values" (the default LoRA targets). The DPO + ZO loss itself is the same function of
predictions and targets for every family (:func:`dsr.training.loss.dpo_zo_loss`).

:class:`FlowMatchingFamily` implements the rectified-flow answers (Wan, LTX-Video, HunyuanVideo
1.5): x_σ = (1 − σ)·x0 + σ·ε, target ε − x0, σ drawn on the shifted training grid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from dsr.errors import DataError, ModelLoadError

if TYPE_CHECKING:
    import torch

    from dsr.training.timesteps import NoiseSettings

__all__ = [
    "FAMILIES",
    "FlowMatchingFamily",
    "TrainingFamily",
    "check_pixels",
    "prompt_embeds",
    "read_config",
]


class TrainingFamily(Protocol):
    """One family of text-to-video pipelines, as the trainer sees it."""

    #: Short name (``wan``, ``cogvideox``, ``ltx``, ``hunyuanvideo15``), also the generator's.
    name: ClassVar[str]
    #: diffusers class names: the pipeline (``model_index.json``'s ``_class_name``), its
    #: transformer and its VAE.
    pipeline_class: ClassVar[str]
    transformer_class: ClassVar[str]
    vae_class: ClassVar[str]
    #: Pipeline folders the text encoding reads (fingerprinted in the text cache key).
    text_components: ClassVar[tuple[str, ...]]
    #: Names of the text tensors the cache holds per prompt; the first is ``prompt_embeds``.
    text_keys: ClassVar[tuple[str, ...]]
    #: Components left out (``None``) of the pipeline loaded to encode text.
    text_pipeline_without: ClassVar[tuple[str, ...]]
    #: The text projection and cross-attention (or text-stream) keys and values.
    lora_targets: ClassVar[tuple[str, ...]]
    #: Text length used when the samples do not record one.
    default_max_sequence_length: ClassVar[int]
    #: Frames must be ``frame_multiple``·k + 1, height and width multiples of ``size_multiple``.
    frame_multiple: ClassVar[int]
    size_multiple: ClassVar[int]

    def cache_tag(self) -> tuple[Any, ...]:
        """What the cached latents and embeddings depend on besides the component files and the
        preprocessing settings (added to the cache keys; empty for Wan)."""
        ...

    def normalize_latents(self, vae: Any, latents: torch.Tensor) -> torch.Tensor:
        """The transformer-space latents of VAE latents (mode of the posterior), (1, C, F, H, W)."""
        ...

    def encode_text(
        self, pipe: Any, text: str, length: int, device: torch.device, dtype: torch.dtype
    ) -> dict[str, torch.Tensor]:
        """The text tensors of one prompt (batch dimension removed), keyed by ``text_keys``."""
        ...

    def draw(self, rng: np.random.Generator, noise: NoiseSettings) -> tuple[float, float]:
        """One noise level of a pair: ``(sigma, timestep)``."""
        ...

    def noisy_and_target(
        self, x0: torch.Tensor, noise: torch.Tensor, sigma: torch.Tensor, timestep: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The noised latents and the prediction target; ``sigma`` is broadcastable to ``x0``."""
        ...

    def predict(
        self,
        transformer: Any,
        noisy: torch.Tensor,
        timestep: torch.Tensor,
        text: torch.Tensor,
        extra: dict[str, torch.Tensor],
    ) -> torch.Tensor:
        """The transformer's prediction for ``noisy`` (B, C, F, H, W), in the same layout."""
        ...


def check_pixels(family: TrainingFamily, sample_id: str, shape: tuple[int, ...]) -> None:
    """Frames ``frame_multiple``·k + 1 and sizes multiples of ``size_multiple`` (B, 3, T, H, W)."""
    frames, height, width = shape[2], shape[3], shape[4]
    if (frames - 1) % family.frame_multiple:
        raise DataError(
            f"sample {sample_id} has {frames} frames; {family.name}'s VAE needs "
            f"{family.frame_multiple}k+1: set train_num_frames"
        )
    if height % family.size_multiple or width % family.size_multiple:
        raise DataError(
            f"sample {sample_id} is {height}x{width}; {family.name} needs multiples of "
            f"{family.size_multiple}: set train_height and train_width"
        )


@dataclass(frozen=True)
class FlowMatchingFamily:
    """Rectified flow: noise, target and timesteps as the paper trains Wan (docs/method.md §6)."""

    name: ClassVar[str] = ""
    pipeline_class: ClassVar[str] = ""
    transformer_class: ClassVar[str] = ""
    vae_class: ClassVar[str] = ""
    text_components: ClassVar[tuple[str, ...]] = ("text_encoder", "tokenizer")
    text_keys: ClassVar[tuple[str, ...]] = ("prompt_embeds",)
    text_pipeline_without: ClassVar[tuple[str, ...]] = ("transformer", "vae")
    lora_targets: ClassVar[tuple[str, ...]] = ()
    default_max_sequence_length: ClassVar[int] = 512
    frame_multiple: ClassVar[int] = 4
    size_multiple: ClassVar[int] = 16

    def draw(self, rng: np.random.Generator, noise: NoiseSettings) -> tuple[float, float]:
        from dsr.training.timesteps import draw_sigma

        return draw_sigma(
            rng,
            sampling=noise.timestep_sampling,
            shift=noise.timestep_shift,
            num_train_timesteps=noise.num_train_timesteps,
            logit_mean=noise.logit_mean,
            logit_std=noise.logit_std,
            timestep_dtype=noise.timestep_dtype,
        )

    def noisy_and_target(
        self, x0: torch.Tensor, noise: torch.Tensor, sigma: torch.Tensor, timestep: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return (1.0 - sigma) * x0 + sigma * noise, noise - x0

    def cache_tag(self) -> tuple[Any, ...]:
        return (self.name,)

    def normalize_latents(self, vae: Any, latents: torch.Tensor) -> torch.Tensor:
        """``latents · scaling_factor`` (HunyuanVideo's convention); Wan and LTX override."""
        return latents * vae.config.scaling_factor


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


def prompt_embeds(
    pipe: Any, text: str, length: int, device: torch.device, dtype: torch.dtype
) -> dict[str, torch.Tensor]:
    """``{"prompt_embeds": (L, D)}`` from a pipeline whose ``encode_prompt`` returns the positive
    and negative embeddings of one text encoder (Wan, CogVideoX), without classifier-free
    guidance."""
    embeds, _ = pipe.encode_prompt(
        text,
        do_classifier_free_guidance=False,
        max_sequence_length=length,
        device=device,
        dtype=dtype,
    )
    return {"prompt_embeds": embeds[0]}
