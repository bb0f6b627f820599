"""CogVideoX 1.0 / 1.5 (``CogVideoXPipeline``): v-prediction on a DDPM schedule.

* latents: the VAE posterior's mode × ``scaling_factor``; CogVideoX 1.5 patches 2 latent frames
  at a time, so a clip whose latent frame count is odd gets its first latent frame repeated in
  front (the pipeline likewise pads one frame in front and discards it after denoising).
* noise at an integer timestep t drawn uniformly from the scheduler's training timesteps:
  x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε with the scheduler's ᾱ (``alphas_cumprod``, after its SNR shift and
  zero-terminal-SNR rescaling); target v = √ᾱ_t·ε − √(1−ᾱ_t)·x0 (``get_velocity``).
* the error ‖v_θ − v‖² is, per element, the 1/(1−ᾱ_t)-weighted x0 error the CogVideoX training
  scripts minimize, so the DPO + ZO loss takes the same form as for the flow models.
* LoRA: CogVideoX has no cross-attention; text and video tokens share one joint attention. The
  default adapts the text-embedding projection (``patch_embed.text_proj``) and the joint
  attention's keys and values (``attn1.to_k``/``to_v``), which read the text tokens as well as the
  video tokens; ``--lora-target-modules patch_embed.text_proj`` adapts the text path alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dsr.errors import ConfigError
from dsr.training.families.base import prompt_embeds, read_config

if TYPE_CHECKING:
    import torch

    from dsr.training.timesteps import NoiseSettings

__all__ = ["COGVIDEOX_LORA_TARGETS", "CogVideoXFamily"]

COGVIDEOX_LORA_TARGETS = (
    "patch_embed.text_proj",
    "transformer_blocks.*.attn1.to_k",
    "transformer_blocks.*.attn1.to_v",
)


@dataclass(frozen=True)
class CogVideoXFamily:
    """T5 text (226 tokens), latents × scaling_factor, v-prediction on the scheduler's ᾱ."""

    name: ClassVar[str] = "cogvideox"
    pipeline_class: ClassVar[str] = "CogVideoXPipeline"
    transformer_class: ClassVar[str] = "CogVideoXTransformer3DModel"
    vae_class: ClassVar[str] = "AutoencoderKLCogVideoX"
    text_components: ClassVar[tuple[str, ...]] = ("text_encoder", "tokenizer")
    text_keys: ClassVar[tuple[str, ...]] = ("prompt_embeds",)
    text_pipeline_without: ClassVar[tuple[str, ...]] = ("transformer", "vae")
    lora_targets: ClassVar[tuple[str, ...]] = COGVIDEOX_LORA_TARGETS
    default_max_sequence_length: ClassVar[int] = 226
    frame_multiple: ClassVar[int] = 4
    size_multiple: ClassVar[int] = 16

    #: ᾱ_t of the scheduler, t = 0 … num_train_timesteps − 1.
    alphas_cumprod: tuple[float, ...] = field(default=(), repr=False)
    #: Latent frames the transformer patches together (2 for 1.5, None for 1.0).
    patch_size_t: int | None = None

    @classmethod
    def from_configs(cls, model: str, revision: str | None = None) -> CogVideoXFamily:
        import diffusers

        index = read_config(model, "model_index.json", revision)
        scheduler_cls = getattr(diffusers, index.get("scheduler", ["", "CogVideoXDPMScheduler"])[1])
        config = read_config(model, "scheduler/scheduler_config.json", revision)
        scheduler = scheduler_cls.from_config(config)
        if scheduler.config.get("prediction_type") != "v_prediction":
            raise ConfigError(
                f"{model}'s scheduler predicts {scheduler.config.get('prediction_type')}; dsr "
                "trains CogVideoX checkpoints with v_prediction schedulers"
            )
        transformer = read_config(model, "transformer/config.json", revision)
        return cls(
            tuple(float(a) for a in scheduler.alphas_cumprod.tolist()),
            transformer.get("patch_size_t"),
        )

    def cache_tag(self) -> tuple[Any, ...]:
        """What the cached latents depend on besides the VAE (the front padding)."""
        return (self.name, self.patch_size_t)

    def normalize_latents(self, vae: Any, latents: torch.Tensor) -> torch.Tensor:
        import torch

        latents = latents * vae.config.scaling_factor
        p_t = self.patch_size_t
        if p_t and latents.shape[2] % p_t:
            pad = p_t - latents.shape[2] % p_t
            latents = torch.cat([latents[:, :, :1].repeat(1, 1, pad, 1, 1), latents], dim=2)
        return latents

    def encode_text(
        self, pipe: Any, text: str, length: int, device: torch.device, dtype: torch.dtype
    ) -> dict[str, torch.Tensor]:
        return prompt_embeds(pipe, text, length, device, dtype)

    def draw(self, rng: np.random.Generator, noise: NoiseSettings) -> tuple[float, float]:
        """t uniform over the scheduler's training timesteps; ``(√(1−ᾱ_t), t)``."""
        if noise.timestep_sampling != "uniform" or noise.timestep_dtype != "float32":
            raise ConfigError(
                "CogVideoX draws integer timesteps uniformly from its scheduler: drop "
                "--timestep-sampling/--timestep-dtype (or --paper-exact), which apply to the flow "
                "models"
            )
        t = int(rng.integers(len(self.alphas_cumprod)))
        return float(np.sqrt(1.0 - self.alphas_cumprod[t])), float(t)

    def _coefficients(
        self, timestep: torch.Tensor, like: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        table = torch.tensor(self.alphas_cumprod, dtype=torch.float32, device=like.device)
        alpha = table[timestep.long()].view(-1, *([1] * (like.dim() - 1)))
        return alpha**0.5, (1 - alpha) ** 0.5

    def noisy_and_target(
        self, x0: torch.Tensor, noise: torch.Tensor, sigma: torch.Tensor, timestep: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self._coefficients(timestep, x0)
        return a * x0 + b * noise, a * noise - b * x0

    def predict(
        self,
        transformer: Any,
        noisy: torch.Tensor,
        timestep: torch.Tensor,
        text: torch.Tensor,
        extra: dict[str, torch.Tensor],
    ) -> torch.Tensor:
        dtype = transformer.dtype
        hidden = noisy.permute(0, 2, 1, 3, 4).to(dtype)  # (B, F, C, H, W), the pipeline's layout
        out = transformer(
            hidden_states=hidden,
            encoder_hidden_states=text.to(dtype),
            timestep=timestep,
            image_rotary_emb=self._rotary(transformer, hidden),
            return_dict=False,
        )[0]
        return out.permute(0, 2, 1, 3, 4)

    @staticmethod
    def _rotary(transformer: Any, hidden: torch.Tensor) -> Any:
        """The pipeline's rotary embeddings for latents of this size (None without rotary)."""
        if not transformer.config.use_rotary_positional_embeddings:
            return None
        from diffusers import CogVideoXPipeline

        # the pipeline's own function, given latent sizes (spatial scale 1)
        owner = SimpleNamespace(vae_scale_factor_spatial=1, transformer=transformer)
        return CogVideoXPipeline._prepare_rotary_positional_embeddings(
            owner,
            hidden.shape[3],
            hidden.shape[4],
            hidden.shape[1],
            hidden.device,
        )
