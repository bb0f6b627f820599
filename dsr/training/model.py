"""The trained network: the base model's transformer with a peft LoRA adapter, saved in diffusers'
format.

The frozen base weights stay in ``base_dtype``; the LoRA weights are float32 (AdamW on bf16
weights loses small updates). The reference model of DPO is the same network with the adapter
disabled, so no copy of the base weights is made. Adapters are written with the family's
``save_lora_weights`` (``WanPipeline``'s for Wan, ``CogVideoXPipeline``'s, ``LTXPipeline``'s) and
load into that pipeline with ``load_lora_weights``; HunyuanVideo 1.5's pipeline has no LoRA loader
in diffusers 0.42.1, its adapter is written in the same format (``HunyuanVideoLoraLoaderMixin``)
and loads with ``pipe.transformer.load_lora_adapter(folder, weight_name=LORA_WEIGHTS, prefix=
"transformer")``.
"""

from __future__ import annotations

import fnmatch
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import torch

from dsr.errors import ConfigError
from dsr.model_loading import hub_model

if TYPE_CHECKING:
    from dsr.training.config import SpatialAlignConfig
    from dsr.training.families import TrainingFamily

__all__ = [
    "LORA_WEIGHTS",
    "SpatialAlignModel",
    "add_lora",
    "expand_targets",
    "load_lora",
    "load_transformer",
    "lora_parameters",
    "resolve_dtype",
    "save_lora",
]

log = logging.getLogger(__name__)

#: The file ``WanPipeline.save_lora_weights`` writes.
LORA_WEIGHTS = "pytorch_lora_weights.safetensors"

#: Transformer class → the diffusers class whose ``save_lora_weights`` / ``lora_state_dict`` read
#: and write its adapters (the family's pipeline where it has a LoRA loader).
LORA_IO = {
    "WanTransformer3DModel": "WanPipeline",
    "CogVideoXTransformer3DModel": "CogVideoXPipeline",
    "LTXVideoTransformer3DModel": "LTXPipeline",
    "HunyuanVideo15Transformer3DModel": "HunyuanVideoLoraLoaderMixin",
}


class SpatialAlignModel(torch.nn.Module):
    """What the Trainer trains: the transformer (with its adapter) predicting the targets of a
    batch of noisy latents (velocities for Wan), winners and losers together or one half after the
    other; ``family`` says how the transformer is called (default: Wan).

    A thin ``nn.Module`` around the diffusers model, so that DDP sees ONE forward per step in both
    modes, and so that the Trainer's integrations (which read ``model.config`` as a transformers
    config) meet a plain module."""

    def __init__(self, transformer: Any, family: TrainingFamily | None = None) -> None:
        super().__init__()
        self.transformer = transformer
        from dsr.training.families import default_family

        self.family: TrainingFamily = family if family is not None else default_family()

    @property
    def dtype(self) -> torch.dtype:
        return self.transformer.dtype

    def forward(
        self,
        noisy: torch.Tensor,
        timestep: torch.Tensor,
        text: torch.Tensor,
        sequential: bool = False,
        text_extra: dict[str, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        extra = text_extra or {}
        if not sequential:
            return self.family.predict(self.transformer, noisy, timestep, text, extra)
        halves = zip(noisy.chunk(2), timestep.chunk(2), text.chunk(2), strict=True)
        extras = [{k: v.chunk(2)[i] for k, v in extra.items()} for i in range(2)]
        return torch.cat(
            [
                self.family.predict(self.transformer, n, t, e, x)
                for (n, t, e), x in zip(halves, extras, strict=True)
            ]
        )


def resolve_dtype(name: str, use_cpu: bool = False) -> torch.dtype:
    """``auto`` → bfloat16 on CUDA, float32 on the CPU; otherwise the named dtype."""
    if name == "auto":
        return torch.bfloat16 if torch.cuda.is_available() and not use_cpu else torch.float32
    return getattr(torch, name)


def load_transformer(config: SpatialAlignConfig, family: TrainingFamily | None = None) -> Any:
    """The transformer of ``config.base_model`` (the family's class: ``WanTransformer3DModel``
    for Wan) in the base dtype, frozen."""
    import diffusers

    if family is None:
        from dsr.training.families import load_family

        family = load_family(config.base_model, config.base_model_revision)
    model_cls = getattr(diffusers, family.transformer_class)
    what = "Wan transformer" if family.name == "wan" else f"{family.name} transformer"
    with hub_model(what, config.base_model, "--base-model PATH") as local:
        model = model_cls.from_pretrained(
            config.base_model,
            subfolder="transformer",
            revision=config.base_model_revision,
            dtype=resolve_dtype(config.base_dtype, config.use_cpu),
            local_files_only=local,
        )
    model.requires_grad_(False)
    return model


def expand_targets(model: Any, patterns: list[str]) -> list[str]:
    """Full names of the Linear modules matched by ``patterns`` ('*' = a block index).

    Each pattern must match a module; a bare ``to_k`` matches nothing (names are full), so
    self-attention is never adapted by accident (docs/method.md §6)."""
    linear = [name for name, mod in model.named_modules() if isinstance(mod, torch.nn.Linear)]
    out: list[str] = []
    for pattern in patterns:
        hits = [n for n in linear if fnmatch.fnmatchcase(n, pattern)]
        if not hits:
            raise ConfigError(
                f"lora target {pattern!r} matches no Linear module of the transformer: use full "
                "names such as blocks.*.attn2.to_k or condition_embedder.text_embedder.linear_1 "
                "(the README's models table lists each family's)"
            )
        out += [h for h in hits if h not in out]
    return out


def add_lora(model: Any, config: SpatialAlignConfig) -> list[str]:
    """Add the trainable adapter (float32) to ``model``; returns the adapted module names."""
    from peft import LoraConfig

    targets = expand_targets(model, list(config.lora_target_modules))
    # peft annotates lora_alpha as int but uses it as a number (scaling = alpha / r): a float works
    alpha = cast(int, config.lora_alpha)
    model.add_adapter(
        LoraConfig(
            r=config.lora_rank,
            lora_alpha=alpha,
            lora_dropout=config.lora_dropout,
            init_lora_weights=True,
            target_modules=targets,
        )
    )
    for param in lora_parameters(model).values():
        param.data = param.data.to(torch.float32)
    log.info(
        "LoRA rank %d on %d modules (%d trainable parameters)",
        config.lora_rank,
        len(targets),
        sum(p.numel() for p in lora_parameters(model).values()),
    )
    return targets


def lora_parameters(model: Any) -> dict[str, torch.nn.Parameter]:
    """The adapter's parameters by name (the only ones that train)."""
    return {n: p for n, p in model.named_parameters() if "lora_" in n}


def save_lora(model: Any, folder: str | Path) -> Path:
    """Write the adapter in diffusers' format (``pytorch_lora_weights.safetensors``) with its peft
    config in the file's metadata, as diffusers' training scripts do: ``load_lora_weights`` reads
    ``lora_alpha`` from there (without it, it assumes alpha = rank)."""
    from peft.utils import get_peft_model_state_dict

    _lora_io(model).save_lora_weights(
        str(folder),
        transformer_lora_layers=get_peft_model_state_dict(model),
        safe_serialization=True,
        transformer_lora_adapter_metadata=model.peft_config["default"].to_dict(),
    )
    return Path(folder) / LORA_WEIGHTS


def load_lora(model: Any, folder: str | Path) -> None:
    """Load an adapter written by :func:`save_lora` into ``model``'s adapter (for resuming)."""
    from peft.utils import set_peft_model_state_dict

    state = _lora_io(model).lora_state_dict(str(folder))
    state = {
        k.removeprefix("transformer."): v for k, v in state.items() if k.startswith("transformer.")
    }
    result = set_peft_model_state_dict(model, state, adapter_name="default")
    unexpected = getattr(result, "unexpected_keys", None)
    if unexpected:
        raise ConfigError(
            f"{folder} holds an adapter for other modules ({unexpected[0]}, ...): resume with the "
            "lora_target_modules it was trained with"
        )


def _lora_io(model: Any) -> Any:
    """The diffusers class that writes and reads adapters of ``model`` (:data:`LORA_IO`)."""
    import diffusers

    name = LORA_IO.get(type(model).__name__, "WanPipeline")
    return getattr(diffusers, name, None) or getattr(diffusers.loaders, name)
