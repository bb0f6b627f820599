"""The ``wan`` generator with a LoRA adapter (``lora=``, ``lora_scale=``), and resumed builds that
meet another adapter or a sampler recorded under the old default. A tiny random Wan and a tiny
random adapter are built from configs and loaded back through the production paths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dsr.errors import ConfigError
from dsr.prompts import parse_prompt

PROMPT = parse_prompt(
    "In a quiet park, a fox is on the left of a stump, then the fox walks to the "
    "right of the stump."
)
TINY = {
    "num_frames": 5,
    "height": 32,
    "width": 32,
    "fps": 8,
    "num_inference_steps": 2,
    "max_sequence_length": 16,
}


def _adapter(base: Path, out: Path, seed: int) -> Path:
    """A random (non-zero) rank-4 adapter on the cross-attention keys and values, saved as
    ``dsr train`` saves one."""
    import torch
    from diffusers import WanPipeline, WanTransformer3DModel
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    torch.manual_seed(seed)
    transformer = WanTransformer3DModel.from_pretrained(base, subfolder="transformer")
    transformer.add_adapter(
        LoraConfig(
            r=4, lora_alpha=4, target_modules=["attn2.to_k", "attn2.to_v"], init_lora_weights=False
        )
    )
    WanPipeline.save_lora_weights(
        str(out), transformer_lora_layers=get_peft_model_state_dict(transformer)
    )
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from dsr.generation.tiny import save_tiny_wan

    root = tmp_path_factory.mktemp("wan-lora")
    base = save_tiny_wan(root / "wan")
    return {
        "base": base,
        "a": _adapter(base, root / "lora-a", 1),
        "b": _adapter(base, root / "lora-b", 2),
    }


def test_adapter_changes_the_video_and_scale_zero_gives_the_base(models: dict[str, Path]) -> None:
    from dsr.generation.wan import WanGenerator

    (base,) = WanGenerator(model=str(models["base"]), **TINY).generate(PROMPT, [0])
    (adapted,) = WanGenerator(model=str(models["base"]), lora=str(models["a"]), **TINY).generate(
        PROMPT, [0]
    )
    (off,) = WanGenerator(
        model=str(models["base"]), lora=str(models["a"]), lora_scale=0.0, **TINY
    ).generate(PROMPT, [0])
    assert np.abs(base.frames.astype(int) - adapted.frames.astype(int)).max() > 5
    assert np.array_equal(base.frames, off.frames)
    import hashlib

    expected = hashlib.sha256(
        (models["a"] / "pytorch_lora_weights.safetensors").read_bytes()
    ).hexdigest()
    assert (
        adapted.settings["lora"] == str(models["a"]) and adapted.settings["lora_sha256"] == expected
    )
    assert adapted.settings["lora_scale"] == 1.0 and off.settings["lora_scale"] == 0.0


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("/no/such/adapter", "no such adapter folder"),
        ("not a repo!", "neither a folder nor a Hub repo id"),
        ("you/adapter@", "nothing after '@'"),
    ],
)
def test_bad_adapter_sources_are_refused_in_one_line(value: str, needle: str) -> None:
    from dsr.generation import GENERATORS

    with pytest.raises(ConfigError, match=needle):
        GENERATORS.check("wan", {"lora": value})


def test_hub_adapter_source_keeps_its_revision() -> None:
    from dsr.generation.adapters import parse_adapter_source

    source = parse_adapter_source("you/wan-spatialalign@v1.0.0")
    assert (source.source, source.revision, source.is_local) == (
        "you/wan-spatialalign",
        "v1.0.0",
        False,
    )


def _build(models: dict[str, Path], tmp: Path, seeds: tuple[int, ...], **options: object):  # type: ignore[no-untyped-def]
    from dsr.builders.videos import VideoBuildConfig, build_videos

    config = VideoBuildConfig(
        prompts="unused",
        out=str(tmp / "ds"),
        split="test",
        generator="wan",
        generator_options={"model": str(models["base"]), **TINY, **options},
        tracker="annotations",
        seeds=seeds,
        consolidate=False,
    )
    return build_videos(
        config, prompts=[{**PROMPT.to_dict(), "prompt_id": "test-000", "split": "test"}]
    )


def _settings(tmp: Path) -> list[dict[str, object]]:
    rows = sorted((tmp / "ds" / ".dsr" / "videos" / "test").rglob("*__seed*.json"))
    return [json.loads(json.loads(p.read_text())["generator_settings"]) for p in rows]


def test_resumed_build_refuses_another_adapter(models: dict[str, Path], tmp_path: Path) -> None:
    _build(models, tmp_path, (0,), lora=str(models["a"]))
    with pytest.raises(ConfigError, match="lora"):
        _build(models, tmp_path, (0, 1), lora=str(models["b"]))
    with pytest.raises(ConfigError, match="lora"):
        _build(models, tmp_path, (0, 1))  # nor the base model without it
    assert _build(models, tmp_path, (0, 1), lora=str(models["a"])).built == 1


def test_build_begun_with_the_old_default_keeps_unipc(
    models: dict[str, Path], tmp_path: Path
) -> None:
    import shutil

    _build(models, tmp_path, (0,), sampler="unipc", flow_shift=3.0)
    build = tmp_path / "ds" / ".dsr" / "videos" / "test" / "build.json"
    record = json.loads(
        build.read_text()
    )  # as an older dsr wrote it: no sampler key (UniPC, shift 3)
    del record["settings"]["generator"]["sampler"]
    build.write_text(json.dumps(record))
    assert (
        _build(models, tmp_path, (0, 1)).built == 1
    )  # resumed without options: not refused, not mixed
    assert [(s["sampler"], s["flow_shift"]) for s in _settings(tmp_path)] == [("unipc", 3.0)] * 2
    with pytest.raises(ConfigError, match="sampler"):
        _build(
            models, tmp_path, (0, 1, 2), sampler="euler"
        )  # asking for the new one explicitly: refused
    shutil.rmtree(tmp_path / "ds")
    _build(models, tmp_path, (0,))  # a new build takes the paper's sampler
    assert [(s["sampler"], s["flow_shift"]) for s in _settings(tmp_path)] == [("euler", 5.0)]


def test_build_recorded_before_the_timestep_dtype_option_resumes(
    models: dict[str, Path], tmp_path: Path
) -> None:
    _build(models, tmp_path, (0,))
    build = tmp_path / "ds" / ".dsr" / "videos" / "test" / "build.json"
    record = json.loads(build.read_text())
    del record["settings"]["generator"]["timestep_dtype"]  # as an older dsr wrote it: float32
    build.write_text(json.dumps(record))
    assert _build(models, tmp_path, (0, 1)).built == 1
    with pytest.raises(ConfigError, match="timestep_dtype"):
        _build(models, tmp_path, (0, 1, 2), timestep_dtype="bfloat16")


def test_hub_adapter_at_a_tag_gives_the_folder_adapter_and_records_its_commit(
    models: dict[str, Path], hub, hub_token
) -> None:  # type: ignore[no-untyped-def]
    from huggingface_hub import HfApi

    from dsr.generation.wan import WanGenerator

    api = HfApi()
    api.create_repo("tester/wan-lora", exist_ok=True)
    sha = api.upload_folder(folder_path=str(models["a"]), repo_id="tester/wan-lora").oid
    api.create_tag("tester/wan-lora", tag="v1.0.0", revision=sha)
    (remote,) = WanGenerator(
        model=str(models["base"]), lora="tester/wan-lora@v1.0.0", **TINY
    ).generate(PROMPT, [0])
    (local,) = WanGenerator(model=str(models["base"]), lora=str(models["a"]), **TINY).generate(
        PROMPT, [0]
    )
    assert np.array_equal(remote.frames, local.frames)
    assert (remote.settings["lora"], remote.settings["lora_revision"]) == (
        "tester/wan-lora@v1.0.0",
        "v1.0.0",
    )
    assert (
        remote.settings["lora_commit"] == sha
        and remote.settings["lora_sha256"] == local.settings["lora_sha256"]
    )
