"""Wan2.1 / Wan2.2 (``WanPipeline``): the family the paper trains (docs/method.md §6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from dsr.training.families.base import FlowMatchingFamily, prompt_embeds

if TYPE_CHECKING:
    import torch

__all__ = ["WAN_LORA_TARGETS", "WanFamily"]

#: The text-embedding projection and the cross-attention (attn2) keys and values of every block;
#: ``*`` is a block index, and full names keep self-attention (attn1) out.
WAN_LORA_TARGETS = (
    "condition_embedder.text_embedder.linear_1",
    "condition_embedder.text_embedder.linear_2",
    "blocks.*.attn2.to_k",
    "blocks.*.attn2.to_v",
)


@dataclass(frozen=True)
class WanFamily(FlowMatchingFamily):
    """UMT5 text (padding zeroed by the pipeline), latents (z − latents_mean) / latents_std."""

    name: ClassVar[str] = "wan"
    pipeline_class: ClassVar[str] = "WanPipeline"
    transformer_class: ClassVar[str] = "WanTransformer3DModel"
    vae_class: ClassVar[str] = "AutoencoderKLWan"
    lora_targets: ClassVar[tuple[str, ...]] = WAN_LORA_TARGETS
    default_max_sequence_length: ClassVar[int] = 512

    def cache_tag(self) -> tuple[Any, ...]:
        """Nothing: Wan's cache keys are those dsr always used (existing caches stay valid)."""
        return ()

    def normalize_latents(self, vae: Any, latents: torch.Tensor) -> torch.Tensor:
        """The inverse of what ``WanPipeline`` does before decoding."""
        import torch

        device = latents.device
        mean = torch.tensor(vae.config.latents_mean, device=device).view(1, -1, 1, 1, 1)
        std = torch.tensor(vae.config.latents_std, device=device).view(1, -1, 1, 1, 1)
        return (latents - mean) / std

    def encode_text(
        self, pipe: Any, text: str, length: int, device: torch.device, dtype: torch.dtype
    ) -> dict[str, torch.Tensor]:
        return prompt_embeds(pipe, text, length, device, dtype)

    def predict(
        self,
        transformer: Any,
        noisy: torch.Tensor,
        timestep: torch.Tensor,
        text: torch.Tensor,
        extra: dict[str, torch.Tensor],
    ) -> torch.Tensor:
        dtype = transformer.dtype
        return transformer(
            hidden_states=noisy.to(dtype),
            timestep=timestep,
            encoder_hidden_states=text.to(dtype),
            return_dict=False,
        )[0]
