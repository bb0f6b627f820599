"""The ``cogvideox``, ``ltx`` and ``hunyuanvideo15`` generators on tiny random pipelines built from
configs and loaded through diffusers' ``from_pretrained`` (nothing is downloaded): one
``dsr build-videos`` per family, their published defaults, and LoRA adapters (``-m slow``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dsr.errors import ConfigError
from dsr.prompts import parse_prompt

PROMPT = parse_prompt(
    "In a quiet park, a fox is on the left of a stump, then the fox walks to the "
    "right of the stump."
)
#: The smallest valid videos of each family's VAE and patching (frames, height, width).
TINY: dict[str, dict[str, Any]] = {
    "cogvideox": {"num_frames": 5, "height": 16, "width": 16, "max_sequence_length": 226},
    "ltx": {"num_frames": 9, "height": 32, "width": 32, "max_sequence_length": 16},
    "hunyuanvideo15": {"num_frames": 5, "height": 16, "width": 16, "max_sequence_length": 16},
}
#: Each family's published defaults: (model, frames, height, width, fps, steps, guidance,
#: negative prompt starts with), as the model cards and diffusers' docs state them.
PUBLISHED = {
    "cogvideox": ("zai-org/CogVideoX1.5-5B", 81, 768, 1360, 16, 50, 6.0, ""),
    "ltx": ("Lightricks/LTX-Video", 161, 480, 704, 24, 50, 3.0, "worst quality, inconsistent"),
    "hunyuanvideo15": (
        "hunyuanvideo-community/HunyuanVideo-1.5-480p_t2v",
        121,
        480,
        848,
        24,
        50,
        6.0,
        "",
    ),
}
FAMILIES = list(TINY)


def _stored_samples(out: Path) -> list[dict[str, Any]]:
    rows = sorted((out / ".dsr" / "videos" / "test").rglob("*__seed*.json"))
    return [json.loads(p.read_text()) for p in rows]


def _build(family: str, model: Path, out: Path, seeds: tuple[int, ...]) -> Any:
    """``build-videos --split test --generator FAMILY --seeds ... --batch-size 2`` on one prompt.
    (The CLI refuses ``--tracker annotations`` for these generators, whose videos carry no ground
    truth: the library call keeps the test free of a detector; samples come out invalid.)"""
    from dsr.builders.videos import VideoBuildConfig, build_videos

    options = {"model": str(model), "num_inference_steps": 2, "fps": 8, **TINY[family]}
    config = VideoBuildConfig(
        prompts="unused",
        out=str(out),
        split="test",
        generator=family,
        generator_options=options,
        tracker="annotations",
        seeds=seeds,
        batch_size=2,
        consolidate=False,
    )
    record = {**PROMPT.to_dict(), "prompt_id": "test-000", "split": "test"}
    return build_videos(config, prompts=[record])


@pytest.mark.parametrize("family", FAMILIES)
def test_build_videos_with_each_family_is_seeded_batched_and_resumable(
    family: str, tiny_family_model: Callable[[str], Path], tmp_path: Path
) -> None:
    model = tiny_family_model(family)
    assert _build(family, model, tmp_path / "ds", (0, 1)).built == 2
    rows = _stored_samples(tmp_path / "ds")
    assert [r["seed"] for r in rows] == [0, 1]
    settings = [json.loads(r["generator_settings"]) for r in rows]
    *_, guidance, negative = PUBLISHED[family]
    for s in settings:  # the published defaults it was not given are recorded with the sample
        assert s["generator"] == family and s["guidance_scale"] == guidance
        assert s["negative_prompt"].startswith(negative)
        assert s["num_frames"] == TINY[family]["num_frames"] and s["fps"] == 8
        assert s["batch_seeds"] == [0, 1]
    resumed = _build(family, model, tmp_path / "ds", (0, 1, 2))
    assert (resumed.built, resumed.skipped) == (1, 2)


@pytest.mark.parametrize("family", FAMILIES)
def test_defaults_are_the_published_ones_and_overridable(family: str) -> None:
    from dsr.generation import GENERATORS

    config = GENERATORS.resolve(family).config_class()
    model, frames, height, width, fps, steps, guidance, negative = PUBLISHED[family]
    got = (config.model, config.num_frames, config.height, config.width, config.fps)
    assert got == (model, frames, height, width, fps)
    assert (config.num_inference_steps, config.guidance_scale) == (steps, guidance)
    assert config.negative_prompt.startswith(negative)
    other = GENERATORS.create(family, {"guidance_scale": 1.5, "fps": 12}).settings()
    assert (other["guidance_scale"], other["fps"]) == (1.5, 12)


@pytest.mark.parametrize(
    ("family", "frames", "size"),
    [("cogvideox", 80, 32), ("ltx", 17, 48), ("hunyuanvideo15", 9, 24)],
)
def test_sizes_the_model_cannot_make_are_refused_in_one_line(
    family: str, frames: int, size: int
) -> None:
    from dsr.generation import GENERATORS

    with pytest.raises(ConfigError, match="num_frames"):
        GENERATORS.check(family, {"num_frames": frames, "height": size, "width": size})


def test_a_checkpoint_of_another_family_names_the_right_generator(tmp_path: Path) -> None:
    from dsr.generation import GENERATORS

    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "LTXPipeline"}))
    generator = GENERATORS.create("cogvideox", {"model": str(tmp_path)})
    with pytest.raises(ConfigError, match="--generator ltx"):
        generator.generate(PROMPT, [0])


#: Modules a test adapter adapts in each family (any linear layers of the transformer will do).
ADAPTED = {
    "cogvideox": ["attn1.to_k", "attn1.to_v"],
    "ltx": ["attn2.to_k", "attn2.to_v"],
    "hunyuanvideo15": ["attn.add_k_proj", "attn.add_v_proj"],
}


def _adapter(family: str, base: Path, out: Path) -> Path:
    """A random rank-4 adapter with alpha 8 (≠ rank: a loader that dropped alpha would scale it
    by 1 instead of 2), saved with the family's own LoRA writer."""
    import diffusers
    import torch
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    from dsr.generation import GENERATORS

    pipeline_class = getattr(diffusers, GENERATORS.resolve(family).pipeline_class)
    torch.manual_seed(1)
    transformer = type(pipeline_class.from_pretrained(base).transformer).from_pretrained(
        base, subfolder="transformer"
    )
    config = LoraConfig(r=4, lora_alpha=8, target_modules=ADAPTED[family], init_lora_weights=False)
    transformer.add_adapter(config)
    if hasattr(pipeline_class, "save_lora_weights"):
        pipeline_class.save_lora_weights(
            str(out),
            transformer_lora_layers=get_peft_model_state_dict(transformer),
            transformer_lora_adapter_metadata=config.to_dict(),
        )
    else:  # HunyuanVideo 1.5's pipeline has no LoRA writer: the transformer's own
        transformer.save_lora_adapter(str(out))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_lora_adapter_loads_with_its_alpha_and_changes_the_video(
    family: str, tiny_family_model: Callable[[str], Path], tmp_path: Path
) -> None:
    from dsr.generation import GENERATORS

    base = tiny_family_model(family)
    adapter = _adapter(family, base, tmp_path / "lora")
    options = {"model": str(base), "num_inference_steps": 2, **TINY[family]}
    plain = GENERATORS.create(family, options)
    adapted = GENERATORS.create(family, {**options, "lora": str(adapter)})
    (a,) = plain.generate(PROMPT, [0])
    (b,) = adapted.generate(PROMPT, [0])
    assert not np.array_equal(a.frames, b.frames)
    assert b.settings["lora_sha256"] and b.settings["lora_weight_name"]
    transformer = adapted.pipeline.transformer
    assert transformer.peft_config["dsr_lora"].lora_alpha == 8
    layers = [m for m in transformer.modules() if hasattr(m, "scaling") and "dsr_lora" in m.scaling]
    assert layers and all(m.scaling["dsr_lora"] == 8 / 4 for m in layers)
    off = GENERATORS.create(family, {**options, "lora": str(adapter), "lora_scale": 0.0})
    (c,) = off.generate(PROMPT, [0])
    assert np.array_equal(a.frames, c.frames)


@pytest.mark.slow
def test_an_adapter_of_another_family_is_refused_instead_of_sampling_the_base(
    tiny_family_model: Callable[[str], Path], tmp_path: Path
) -> None:
    from dsr.generation import GENERATORS

    adapter = _adapter("ltx", tiny_family_model("ltx"), tmp_path / "ltx-lora")
    options = {"model": str(tiny_family_model("cogvideox")), "lora": str(adapter)}
    generator = GENERATORS.create("cogvideox", {**options, **TINY["cogvideox"]})
    with pytest.raises(ConfigError, match="not a LoRA adapter of this"):
        generator.generate(PROMPT, [0])
