"""An adapter trained with lora_alpha ≠ lora_rank loads into a ``WanPipeline`` at its trained
strength: the saved file carries the metadata diffusers reads (``lora_alpha``)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import torch


def _inputs(transformer: torch.nn.Module) -> dict[str, torch.Tensor]:
    config = transformer.config
    generator = torch.Generator().manual_seed(0)
    return {
        "hidden_states": torch.randn(1, config.in_channels, 2, 8, 8, generator=generator),
        "timestep": torch.tensor([500]),
        "encoder_hidden_states": torch.randn(1, 16, config.text_dim, generator=generator),
        "return_dict": False,
    }


def test_alpha_survives_save_and_load_lora_weights(tiny_wan: Path, tmp_path: Path) -> None:
    from diffusers import WanPipeline, WanTransformer3DModel
    from safetensors import safe_open

    from dsr.training.model import LORA_WEIGHTS, add_lora, save_lora

    trained = WanTransformer3DModel.from_pretrained(tiny_wan, subfolder="transformer")
    settings = SimpleNamespace(
        lora_rank=4,
        lora_alpha=16.0,  # scale alpha / rank = 4, not 1
        lora_dropout=0.0,
        lora_target_modules=("blocks.*.attn2.to_k", "blocks.*.attn2.to_v"),
    )
    add_lora(trained, settings)  # type: ignore[arg-type]
    torch.manual_seed(1)
    for name, param in trained.named_parameters():
        if "lora_B" in name:  # a fresh adapter is the identity: give it trained-looking weights
            param.data = torch.randn_like(param) * 0.05
    with torch.no_grad():
        expected = trained(**_inputs(trained))[0]
        trained.disable_adapters()
        base = trained(**_inputs(trained))[0]
        trained.enable_adapters()
    save_lora(trained, tmp_path / "adapter")

    pipe = WanPipeline.from_pretrained(tiny_wan)
    pipe.load_lora_weights(str(tmp_path / "adapter"))
    with torch.no_grad():
        loaded = pipe.transformer(**_inputs(pipe.transformer))[0]
    assert (expected - base).abs().max() > 1e-3  # the adapter does something
    torch.testing.assert_close(loaded, expected, rtol=1e-5, atol=1e-5)
    with safe_open(str(tmp_path / "adapter" / LORA_WEIGHTS), "pt") as fh:
        assert "lora_adapter_metadata" in (fh.metadata() or {})  # diffusers' own key
