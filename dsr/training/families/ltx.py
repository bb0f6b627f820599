"""LTX-Video (``LTXPipeline``): flow matching on packed latent tokens.

* latents: (mode − latents_mean) · scaling_factor / latents_std, the inverse of what the
  pipeline does before decoding; frames 8k+1, sizes multiples of 32.
* text: T5 embeddings with their attention mask (128 tokens by default); the transformer takes
  both.
* the transformer reads packed latents (B, F·H·W / patches, C·patch volume) with the latent
  frame count, height and width and the rope interpolation scale (VAE temporal compression /
  frame rate, spatial compression, spatial compression) at the pipeline's default 25 fps.
* LoRA: cross-attention as Wan's: the caption projection and ``attn2.to_k``/``to_v``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from dsr.training.families.base import FlowMatchingFamily, read_config

if TYPE_CHECKING:
    import torch

__all__ = ["LTX_LORA_TARGETS", "LTXFamily"]

LTX_LORA_TARGETS = (
    "caption_projection.linear_1",
    "caption_projection.linear_2",
    "transformer_blocks.*.attn2.to_k",
    "transformer_blocks.*.attn2.to_v",
)
#: ``LTXPipeline.__call__``'s default ``frame_rate``.
LTX_FRAME_RATE = 25


@dataclass(frozen=True)
class LTXFamily(FlowMatchingFamily):
    """T5 text with mask, normalized latents, packed tokens with rope scaling."""

    name: ClassVar[str] = "ltx"
    pipeline_class: ClassVar[str] = "LTXPipeline"
    transformer_class: ClassVar[str] = "LTXVideoTransformer3DModel"
    vae_class: ClassVar[str] = "AutoencoderKLLTXVideo"
    text_keys: ClassVar[tuple[str, ...]] = ("prompt_embeds", "prompt_attention_mask")
    lora_targets: ClassVar[tuple[str, ...]] = LTX_LORA_TARGETS
    default_max_sequence_length: ClassVar[int] = 128
    frame_multiple: ClassVar[int] = 8
    size_multiple: ClassVar[int] = 32

    patch_size: int = 1
    patch_size_t: int = 1
    spatial_compression: int = 32
    temporal_compression: int = 8
    frame_rate: int = LTX_FRAME_RATE

    @classmethod
    def from_configs(cls, model: str, revision: str | None = None) -> LTXFamily:
        transformer = read_config(model, "transformer/config.json", revision)
        vae = read_config(model, "vae/config.json", revision)
        # AutoencoderKLLTXVideo's own rule: patch size × 2 per scaling stage, unless given
        scaling = vae.get("spatio_temporal_scaling", (True, True, True, False))
        scaled = 2 ** sum(bool(s) for s in scaling)
        spatial = vae.get("spatial_compression_ratio") or vae.get("patch_size", 4) * scaled
        temporal = vae.get("temporal_compression_ratio") or vae.get("patch_size_t", 1) * scaled
        return cls(
            patch_size=int(transformer.get("patch_size", 1)),
            patch_size_t=int(transformer.get("patch_size_t", 1)),
            spatial_compression=int(spatial),
            temporal_compression=int(temporal),
        )

    def normalize_latents(self, vae: Any, latents: torch.Tensor) -> torch.Tensor:
        mean = vae.latents_mean.view(1, -1, 1, 1, 1).to(latents.device, latents.dtype)
        std = vae.latents_std.view(1, -1, 1, 1, 1).to(latents.device, latents.dtype)
        return (latents - mean) * vae.config.scaling_factor / std

    def encode_text(
        self, pipe: Any, text: str, length: int, device: torch.device, dtype: torch.dtype
    ) -> dict[str, torch.Tensor]:
        embeds, mask, _, _ = pipe.encode_prompt(
            text,
            do_classifier_free_guidance=False,
            max_sequence_length=length,
            device=device,
            dtype=dtype,
        )
        return {"prompt_embeds": embeds[0], "prompt_attention_mask": mask[0].to(dtype)}

    def predict(
        self,
        transformer: Any,
        noisy: torch.Tensor,
        timestep: torch.Tensor,
        text: torch.Tensor,
        extra: dict[str, torch.Tensor],
    ) -> torch.Tensor:
        from diffusers import LTXPipeline

        dtype = transformer.dtype
        _, _, frames, height, width = noisy.shape
        p, p_t = self.patch_size, self.patch_size_t
        packed = LTXPipeline._pack_latents(noisy, p, p_t)
        out = transformer(
            hidden_states=packed.to(dtype),
            encoder_hidden_states=text.to(dtype),
            timestep=timestep,
            encoder_attention_mask=extra["prompt_attention_mask"],
            num_frames=frames,
            height=height,
            width=width,
            rope_interpolation_scale=(
                self.temporal_compression / self.frame_rate,
                self.spatial_compression,
                self.spatial_compression,
            ),
            return_dict=False,
        )[0]
        return LTXPipeline._unpack_latents(out, frames // p_t, height // p, width // p, p, p_t)
