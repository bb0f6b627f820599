"""The ``wan`` generator on a tiny random Wan pipeline built from configs, saved and reloaded
through ``WanPipeline.from_pretrained`` (nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

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


@pytest.fixture(scope="module")
def tiny_wan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dsr.generation.tiny import save_tiny_wan

    return save_tiny_wan(tmp_path_factory.mktemp("tiny-wan"), num_layers=1)


@pytest.fixture(scope="module")
def generator(tiny_wan: Path):
    from dsr.generation.wan import WanGenerator

    return WanGenerator(model=str(tiny_wan), **TINY)


def test_same_seed_gives_identical_video(generator) -> None:
    (a,) = generator.generate(PROMPT, [3])
    (b,) = generator.generate(PROMPT, [3])
    assert a.frames.dtype == np.uint8 and a.frames.shape == (5, 32, 32, 3)
    assert np.array_equal(a.frames, b.frames) and a.seed == 3 and a.fps == 8


def test_different_seeds_differ_and_batching_matches_single(generator) -> None:
    batch = generator.generate(PROMPT, [0, 1])
    assert not np.array_equal(batch[0].frames, batch[1].frames)
    (single,) = generator.generate(PROMPT, [1])
    diff = np.abs(batch[1].frames.astype(int) - single.frames.astype(int))
    assert diff.max() <= 1  # same latents; batched matmuls may round the last bit differently
    # ... so each sample says how it was made: seed + settings reproduce it exactly
    assert batch[1].settings["batch_size"] == 2 and batch[1].settings["batch_seeds"] == [0, 1]
    assert batch[1].settings["batch_index"] == 1 and single.settings["batch_size"] == 1


def test_settings_recorded(generator, tiny_wan: Path) -> None:
    (video,) = generator.generate(PROMPT, [0])
    s = video.settings
    assert (
        s["model"] == str(tiny_wan) and s["num_inference_steps"] == 2 and s["guidance_scale"] == 5.0
    )
    assert s["negative_prompt"].startswith("Bright tones, overexposed, static, blurred details")
    assert (s["sampler"], s["flow_shift"]) == ("euler", 5.0)
    assert s["resolved_dtype"] == "float32" and s["prompt_text"] == PROMPT.render()
    assert generator.pipeline.scheduler.config.shift == 5.0 and s["lora"] is None


def test_defaults_follow_spec() -> None:
    from dsr.errors import ConfigError
    from dsr.generation.wan import WanConfig

    cfg = WanConfig()
    assert (cfg.model, cfg.num_frames, cfg.height, cfg.width, cfg.fps) == (
        "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        81,
        480,
        832,
        16,
    )
    # the authors' sampler by default (docs/method.md §2); UniPC takes diffusers' 480p shift unless
    # given
    assert (cfg.num_inference_steps, cfg.guidance_scale, cfg.sampler, cfg.flow_shift) == (
        50,
        5.0,
        "euler",
        5.0,
    )
    assert (
        WanConfig(sampler="unipc").flow_shift == 3.0
        and WanConfig(sampler="unipc", flow_shift=5.0).flow_shift == 5.0
    )
    assert cfg.negative_prompt.startswith("Bright tones, overexposed, static, blurred details")
    with pytest.raises(ConfigError, match="4k\\+1"):
        WanConfig(num_frames=80)


def test_wan_sample_row_without_annotations_is_invalid(generator) -> None:
    from dsr.builders.samples import build_sample
    from dsr.tracking.annotations import AnnotationTracker

    (video,) = generator.generate(PROMPT, [0])
    row = build_sample(
        {**PROMPT.to_dict(), "prompt_id": "p"}, 0, video, AnnotationTracker(), generator="wan"
    )
    assert row["valid"] is False and row["reason"] == "no_annotations"
    assert row["video"]["bytes"][4:8] == b"ftyp" and row["num_frames"] == 5


def test_vae_stays_fp32_when_the_transformer_runs_in_bf16(tiny_wan: Path) -> None:
    import torch

    from dsr.generation.wan import WanGenerator

    pipe = WanGenerator(model=str(tiny_wan), dtype="bfloat16", **TINY).pipeline
    assert pipe.transformer.dtype == torch.bfloat16
    assert pipe.vae.dtype == torch.float32
    # the VAE weights must be the checkpoint's, not bf16-rounded copies
    from diffusers import AutoencoderKLWan

    ref = AutoencoderKLWan.from_pretrained(str(tiny_wan), subfolder="vae")
    for (name, p), (_, q) in zip(
        pipe.vae.state_dict().items(), ref.state_dict().items(), strict=True
    ):
        assert torch.equal(p, q), name


def test_paper_exact_sampler_is_euler_on_diffsynth_sigmas_with_shift_5(tiny_wan: Path) -> None:
    from dsr.generation import GENERATORS
    from dsr.paper_exact import paper_exact_options

    gen = GENERATORS.create(
        "wan", paper_exact_options("generator", "wan", {"model": str(tiny_wan), **TINY})
    )
    scheduler = gen.pipeline.scheduler
    scheduler.set_timesteps(50)
    unshifted = [1 - i / 50 for i in range(50)]  # DiffSynth: linspace(1, 0, 51)[:-1]
    shifted = [5 * s / (1 + 4 * s) for s in unshifted]
    np.testing.assert_allclose(scheduler.sigmas.numpy(), [*shifted, 0.0], rtol=1e-6, atol=1e-7)
    # the transformer is conditioned on the timesteps in bf16, as DiffSynth's pipeline casts them
    bf16 = [float(torch.tensor(1000 * s).to(torch.bfloat16)) for s in shifted]
    assert scheduler.timesteps.tolist() == bf16
    assert max(abs(b - 1000 * s) for b, s in zip(bf16, shifted, strict=True)) > 1.0
    seen: list[float] = []
    gen.pipeline.transformer.register_forward_pre_hook(
        lambda _m, _a, kw: seen.extend(kw["timestep"].tolist()), with_kwargs=True
    )
    (video,) = gen.generate(PROMPT, [0])
    assert video.frames.shape == (5, 32, 32, 3)
    assert (video.settings["sampler"], video.settings["flow_shift"]) == ("euler", 5.0)
    assert video.settings["timestep_dtype"] == "bfloat16"
    two_steps = [float(torch.tensor(1000 * s).to(torch.bfloat16)) for s in (1.0, 2.5 / 3)]
    assert sorted(set(seen), reverse=True) == two_steps  # both CFG passes, both steps


def test_default_timesteps_stay_float32(generator) -> None:
    scheduler = generator.pipeline.scheduler
    scheduler.set_timesteps(50)
    shifted = [5 * (1 - i / 50) / (1 + 4 * (1 - i / 50)) for i in range(50)]
    np.testing.assert_allclose(scheduler.timesteps.numpy(), [1000 * s for s in shifted], rtol=1e-6)
