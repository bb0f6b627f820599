"""HunyuanVideo 1.5 (``HunyuanVideo15Pipeline``, text-to-video): flow matching, dual-stream
attention.

* latents: the VAE posterior's mode × ``scaling_factor``; frames 4k+1, sizes multiples of 16.
* text: the pipeline's two encoders (Qwen2.5-VL chat embeddings and ByT5 glyph embeddings) with
  their masks; the transformer takes all four.
* the transformer reads the latents concatenated on channels with zero conditioning latents and a
  zero mask, and zero image embeddings, exactly as the text-to-video pipeline calls it.
* LoRA: no cross-attention; text tokens have their own stream in each block. The default adapts
  the text-embedding projection (``context_embedder.proj_in``) and the text stream's keys and
  values (``attn.add_k_proj``/``add_v_proj``), which the video tokens attend to.
* diffusers 0.42.1's pipeline has no ``load_lora_weights``: load the adapter with
  ``pipe.transformer.load_lora_adapter(folder, weight_name="pytorch_lora_weights.safetensors",
  prefix="transformer")`` (alpha read from the file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from dsr.training.families.base import FlowMatchingFamily, read_config

if TYPE_CHECKING:
    import torch

__all__ = ["HUNYUANVIDEO15_LORA_TARGETS", "HunyuanVideo15Family"]

HUNYUANVIDEO15_LORA_TARGETS = (
    "context_embedder.proj_in",
    "transformer_blocks.*.attn.add_k_proj",
    "transformer_blocks.*.attn.add_v_proj",
)
#: ``HunyuanVideo15Pipeline.vision_num_semantic_tokens``: zero image tokens of a T2V call.
VISION_TOKENS = 729


@dataclass(frozen=True)
class HunyuanVideo15Family(FlowMatchingFamily):
    """Two text encoders with masks, latents × scaling_factor, zero image conditioning."""

    name: ClassVar[str] = "hunyuanvideo15"
    pipeline_class: ClassVar[str] = "HunyuanVideo15Pipeline"
    transformer_class: ClassVar[str] = "HunyuanVideo15Transformer3DModel"
    vae_class: ClassVar[str] = "AutoencoderKLHunyuanVideo15"
    text_components: ClassVar[tuple[str, ...]] = (
        "text_encoder",
        "tokenizer",
        "text_encoder_2",
        "tokenizer_2",
    )
    text_keys: ClassVar[tuple[str, ...]] = (
        "prompt_embeds",
        "prompt_embeds_mask",
        "prompt_embeds_2",
        "prompt_embeds_mask_2",
    )
    #: the pipeline's constructor reads the VAE's config: only the transformer is left out
    text_pipeline_without: ClassVar[tuple[str, ...]] = ("transformer",)
    lora_targets: ClassVar[tuple[str, ...]] = HUNYUANVIDEO15_LORA_TARGETS
    #: the pipeline's Qwen prompt length (``tokenizer_max_length``), as ``dsr generate`` sets it
    default_max_sequence_length: ClassVar[int] = 1000

    image_embed_dim: int = 1152

    @classmethod
    def from_configs(cls, model: str, revision: str | None = None) -> HunyuanVideo15Family:
        transformer = read_config(model, "transformer/config.json", revision)
        return cls(image_embed_dim=int(transformer.get("image_embed_dim", 1152)))

    def encode_text(
        self, pipe: Any, text: str, length: int, device: torch.device, dtype: torch.dtype
    ) -> dict[str, torch.Tensor]:
        pipe.tokenizer_max_length = length  # the Qwen prompt tokens; ByT5's 256 are fixed
        tensors = pipe.encode_prompt(text, device=device, dtype=dtype)
        return {key: t[0] for key, t in zip(self.text_keys, tensors, strict=True)}

    def predict(
        self,
        transformer: Any,
        noisy: torch.Tensor,
        timestep: torch.Tensor,
        text: torch.Tensor,
        extra: dict[str, torch.Tensor],
    ) -> torch.Tensor:
        import torch

        dtype = transformer.dtype
        latents = noisy.to(dtype)
        b, _, f, h, w = latents.shape
        mask = torch.zeros(b, 1, f, h, w, dtype=dtype, device=latents.device)
        hidden = torch.cat([latents, torch.zeros_like(latents), mask], dim=1)
        image = torch.zeros(
            b, VISION_TOKENS, self.image_embed_dim, dtype=dtype, device=latents.device
        )
        return transformer(
            hidden_states=hidden,
            image_embeds=image,
            timestep=timestep.to(dtype),
            encoder_hidden_states=text.to(dtype),
            encoder_attention_mask=extra["prompt_embeds_mask"].to(dtype),
            encoder_hidden_states_2=extra["prompt_embeds_2"].to(dtype),
            encoder_attention_mask_2=extra["prompt_embeds_mask_2"].to(dtype),
            return_dict=False,
        )[0]
