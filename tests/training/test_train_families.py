"""Training every model family on its tiny random pipeline: the family is read from the
checkpoint, each family's noise and target match a reference written here, 3 steps train an
adapter that the family's own pipeline loads at its trained strength and that changes its output.
Wan's end-to-end run is in test_train.py."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from dsr.errors import ConfigError, ModelLoadError

FAMILIES = ("cogvideox", "ltx", "hunyuanvideo15")
#: Frames and size every family takes (LTX: 8k+1 frames, multiples of 32; the tiny CogVideoX 1.5
#: rotary grid is at most 32 pixels square, as the real one is at most its sample size).
SIZE = {"train_num_frames": 9, "train_height": 32, "train_width": 32}
#: rank 4, alpha 8: a loader that dropped alpha would apply the adapter at scale 1 instead of 2.
LORA = {"lora_rank": 4, "lora_alpha": 8.0}


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``tiny_models(name)``: the folder of a tiny random pipeline of that family (built once)."""
    from dsr.generation import tiny_families

    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            save = getattr(tiny_families, f"save_tiny_{name}")
            built[name] = save(tmp_path_factory.mktemp(f"tiny-{name}") / name, seed=0)
        return built[name]

    return get


@pytest.fixture(scope="module")
def trained(tiny_models, pairs_dataset, shared_cache, tmp_path_factory) -> Any:
    """``trained(name)``: (config, result) of one 3-step run on that family (run once)."""
    from _training_helpers import FAST

    from dsr.training.config import SpatialAlignConfig
    from dsr.training.run import train

    runs: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in runs:
            config = SpatialAlignConfig(
                output_dir=str(tmp_path_factory.mktemp(f"trained-{name}") / "run"),
                dataset=str(pairs_dataset),
                base_model=str(tiny_models(name)),
                cache_dir=str(shared_cache),
                **{**FAST, **SIZE, **LORA, "learning_rate": 1e-2},
            )
            runs[name] = (config, train(config, command=f"dsr train ({name})"))
        return runs[name]

    return get


# -- the family of a checkpoint ----------------------------------------------------------------
def test_the_family_is_read_from_model_index(tiny_models, tiny_wan) -> None:
    from dsr.training.families import family_name

    assert family_name(str(tiny_wan)) == "wan"
    assert [family_name(str(tiny_models(n))) for n in FAMILIES] == list(FAMILIES)


def test_an_unsupported_pipeline_is_one_line_before_any_model(pairs_dataset, tmp_path) -> None:
    from click.testing import CliRunner

    from dsr.cli import main

    other = tmp_path / "sd"
    other.mkdir()
    (other / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    args = ["train", "--base-model", str(other), "--dataset", str(pairs_dataset)]
    result = CliRunner().invoke(main, [*args, "--output-dir", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: base model {other} is a StableDiffusionPipeline")
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    from dsr.training.families import family_name

    with pytest.raises(ModelLoadError):
        family_name(str(other))


# -- noise, target, timesteps against references written here ----------------------------------
def _cogvideox_alphas_cumprod(config: dict[str, Any]) -> np.ndarray:
    """ᾱ of a CogVideoX scheduler config by hand (float64): scaled-linear betas, the SNR shift
    ᾱ / (s + (1 − s)·ᾱ), then the zero-terminal-SNR rescaling of √ᾱ (Lin et al. 2024, Alg. 1)."""
    assert config["beta_schedule"] == "scaled_linear"
    n = config.get("num_train_timesteps", 1000)
    betas = np.linspace(config["beta_start"] ** 0.5, config["beta_end"] ** 0.5, n) ** 2
    abar = np.cumprod(1.0 - betas)
    s = config.get("snr_shift_scale", 3.0)
    abar = abar / (s + (1 - s) * abar)
    if config.get("rescale_betas_zero_snr"):
        root = np.sqrt(abar)
        first, last = root[0], root[-1]
        abar = ((root - last) * first / (first - last)) ** 2
    return abar


def test_cogvideox_noises_and_targets_v_on_its_schedulers_alphas(tiny_models) -> None:
    from dsr.training.families import load_family
    from dsr.training.timesteps import NoiseSettings

    folder = tiny_models("cogvideox")
    family = load_family(str(folder))
    config = json.loads((folder / "scheduler" / "scheduler_config.json").read_text())
    abar = _cogvideox_alphas_cumprod(config)
    gen = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(3, 4, 2, 4, 6, generator=gen), torch.randn(3, 4, 2, 4, 6, generator=gen)
    t = torch.tensor([0.0, 500.0, 999.0])
    noisy, target = family.noisy_and_target(x0, eps, torch.zeros(3, 1, 1, 1, 1), t)
    a = torch.tensor(np.sqrt(abar[[0, 500, 999]])).view(3, 1, 1, 1, 1)
    b = torch.tensor(np.sqrt(1 - abar[[0, 500, 999]])).view(3, 1, 1, 1, 1)
    torch.testing.assert_close(noisy, (a * x0 + b * eps).float(), rtol=0, atol=1e-5)
    torch.testing.assert_close(target, (a * eps - b * x0).float(), rtol=0, atol=1e-5)
    # the last timestep is pure noise (zero terminal SNR): the target is −x0
    torch.testing.assert_close(target[2], -x0[2], rtol=0, atol=1e-6)
    draws = [family.draw(np.random.default_rng(k), NoiseSettings()) for k in range(400)]
    steps = np.array([t for _, t in draws])
    assert np.all(steps == np.round(steps)) and steps.min() >= 0 and steps.max() <= 999
    assert steps.min() < 100 and steps.max() > 900  # uniform over the training timesteps
    sigma, step = draws[0]
    assert sigma == pytest.approx(math.sqrt(1 - abar[int(step)]), abs=1e-6)
    with pytest.raises(ConfigError):
        family.draw(np.random.default_rng(0), NoiseSettings(timestep_sampling="logit_normal"))


@pytest.mark.parametrize("name", ["ltx", "hunyuanvideo15"])
def test_flow_families_noise_and_target_as_rectified_flow(tiny_models, name: str) -> None:
    from dsr.training.families import load_family
    from dsr.training.timesteps import NoiseSettings, training_sigmas

    family = load_family(str(tiny_models(name)))
    gen = torch.Generator().manual_seed(1)
    x0, eps = torch.randn(2, 4, 2, 4, 4, generator=gen), torch.randn(2, 4, 2, 4, 4, generator=gen)
    sigma = torch.tensor([0.25, 0.9]).view(2, 1, 1, 1, 1)
    noisy, target = family.noisy_and_target(x0, eps, sigma, sigma.flatten() * 1000)
    by_hand = torch.stack([0.75 * x0[0] + 0.25 * eps[0], 0.1 * x0[1] + 0.9 * eps[1]])
    torch.testing.assert_close(noisy, by_hand)
    torch.testing.assert_close(target, eps - x0)
    s, t = family.draw(np.random.default_rng(3), NoiseSettings())
    assert s in training_sigmas(1000, 5.0) and t == pytest.approx(1000 * s)


# -- LoRA placement ----------------------------------------------------------------------------
EXPECTED_TARGETS = {
    "cogvideox": {"patch_embed.text_proj"}
    | {f"transformer_blocks.{i}.attn1.{p}" for i in (0, 1) for p in ("to_k", "to_v")},
    "ltx": {"caption_projection.linear_1", "caption_projection.linear_2"}
    | {f"transformer_blocks.{i}.attn2.{p}" for i in (0, 1) for p in ("to_k", "to_v")},
    "hunyuanvideo15": {"context_embedder.proj_in"}
    | {f"transformer_blocks.{i}.attn.{p}" for i in (0, 1) for p in ("add_k_proj", "add_v_proj")},
}


@pytest.mark.parametrize("name", FAMILIES)
def test_default_lora_targets_are_the_text_path_of_each_family(make_config, tiny_models, name):
    from dsr.training.model import add_lora, load_transformer
    from dsr.training.run import resolve_family

    config = make_config(base_model=str(tiny_models(name)))
    family = resolve_family(config)
    model = load_transformer(config, family)
    add_lora(model, config)
    adapted = {n.rsplit(".lora_A", 1)[0] for n, _ in model.named_modules() if n.endswith(".lora_A")}
    assert adapted == EXPECTED_TARGETS[name]
    # an explicit list is kept as given
    only = make_config(base_model=str(tiny_models(name)), lora_target_modules=["proj_out"])
    assert resolve_family(only) == family and only.lora_target_modules == ["proj_out"]


# -- end to end: 3 steps, then the family's own pipeline ---------------------------------------
def _load_adapter(pipe: Any, name: str, folder: Path) -> None:
    if name == "hunyuanvideo15":  # diffusers 0.42.1's HunyuanVideo15Pipeline has no LoRA loader
        pipe.transformer.load_lora_adapter(
            str(folder), weight_name="pytorch_lora_weights.safetensors", prefix="transformer"
        )
    else:
        pipe.load_lora_weights(str(folder))


def _prediction(family: Any, transformer: Any, x: dict[str, torch.Tensor]) -> torch.Tensor:
    with torch.no_grad():
        return family.predict(transformer, x["noisy"], x["t"], x["text"], x["extra"])


def _inputs(config: Any, family: Any) -> dict[str, Any]:
    """A noisy latent of the run's cached size and a prompt's cached text tensors."""
    from dsr.training.cache import cache_spec

    spec = cache_spec(config, family)
    latents = next((spec.root / "latents" / spec.latent_key).glob("*.safetensors"))
    text_file = next((spec.root / "text" / spec.text_key).glob("*.safetensors"))
    text = {k: v.float()[None] for k, v in load_file(str(text_file)).items()}
    x0 = load_file(str(latents))["latents"].float()[None]
    gen = torch.Generator().manual_seed(0)
    return {
        "noisy": torch.randn(x0.shape, generator=gen),
        "t": torch.tensor([500.0]),
        "text": text.pop("prompt_embeds"),
        "extra": text,
    }


@pytest.mark.parametrize("name", FAMILIES)
def test_three_steps_train_an_adapter_the_familys_pipeline_loads(trained, tiny_models, name):
    import diffusers

    from dsr.training.families import load_family
    from dsr.training.model import add_lora, load_lora, load_transformer

    config, result = trained(name)
    out = Path(config.output_dir)
    log = [json.loads(line) for line in (out / "training_log.jsonl").read_text().splitlines()]
    steps = [e for e in log if "loss" in e]
    assert [e["step"] for e in steps] == [1, 2, 3] and result.global_step == 3
    assert steps[0]["loss/dpo"] == pytest.approx(math.log(2), abs=1e-6)  # fresh adapter
    assert all(math.isfinite(e["loss"]) for e in steps)
    record = json.loads((out / "training_config.json").read_text())
    family = load_family(str(tiny_models(name)))
    assert (record["family"], record["pipeline"]) == (name, family.pipeline_class)
    card = (out / "README.md").read_text()
    assert f"from diffusers import {family.pipeline_class}" in card
    assert f"--generator {name}" in card

    saved = load_file(str(out / "pytorch_lora_weights.safetensors"))
    assert saved and all(k.startswith("transformer.") for k in saved)
    assert any(v.abs().max() > 0 for k, v in saved.items() if "lora_B" in k)  # it trained

    pipe = getattr(diffusers, family.pipeline_class).from_pretrained(str(tiny_models(name)))
    x = _inputs(config, family)
    base = _prediction(family, pipe.transformer, x)
    _load_adapter(pipe, name, out)
    lora_modules = [m for m in pipe.transformer.modules() if hasattr(m, "scaling") and m.scaling]
    assert lora_modules and all(
        s == pytest.approx(8.0 / 4) for m in lora_modules for s in m.scaling.values()
    )  # alpha 8 over rank 4, read from the file
    adapted = _prediction(family, pipe.transformer, x)
    assert not torch.allclose(adapted, base)
    # the pipeline applies exactly the trained transformer's adapter
    ours = load_transformer(config, family)
    add_lora(ours, config)
    load_lora(ours, out)
    mine = _prediction(family, ours, x)
    torch.testing.assert_close(adapted, mine, rtol=1e-5, atol=1e-6)


# -- resuming after kill -9, and two ranks: CogVideoX (another objective than Wan's) -----------
def _train_cmd(dataset: Path, base: Path, out: Path, cache: Path) -> list[str]:
    import sys

    sizes = [f"--{k.replace('_', '-')}={v}" for k, v in SIZE.items()]
    return [
        sys.executable,
        "-m",
        "dsr",
        "train",
        "--base-model",
        str(base),
        "--dataset",
        str(dataset),
        "--output-dir",
        str(out),
        "--cache-dir",
        str(cache),
        *sizes,
        "--max-sequence-length=16",
        "--effective-batch-size=2",
        "--warmup-steps=0",
        "--no-activation-checkpointing",
        "--report-to=none",
        "--max-steps=8",
        "--save-steps=1",
        "--disable-tqdm",
        "--learning-rate=0.01",
    ]


@pytest.mark.slow
def test_cogvideox_kill_9_then_rerun_equals_an_uninterrupted_run(
    tiny_models, pairs_dataset, tmp_path
) -> None:
    import os
    import signal
    import subprocess
    import time

    base, cache = tiny_models("cogvideox"), tmp_path / "cache"
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    subprocess.run(
        _train_cmd(pairs_dataset, base, straight, cache), check=True, capture_output=True
    )
    proc = subprocess.Popen(
        _train_cmd(pairs_dataset, base, killed, cache),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if (killed / "checkpoint-4").exists():
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = subprocess.run(
        _train_cmd(pairs_dataset, base, killed, cache), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "resumed from checkpoint-" in done.stdout
    a = load_file(str(straight / "pytorch_lora_weights.safetensors"))
    b = load_file(str(killed / "pytorch_lora_weights.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_cogvideox_two_ranks_stay_in_sync(tiny_models, pairs_dataset, tmp_path) -> None:
    from _training_helpers import FAST, run_two_ranks

    out = tmp_path / "ddp"
    settings = {
        **FAST,
        **SIZE,
        "output_dir": str(out),
        "dataset": str(pairs_dataset),
        "base_model": str(tiny_models("cogvideox")),
        "cache_dir": str(tmp_path / "cache"),
        "effective_batch_size": 4,
        "max_steps": 2,
    }
    proc = run_two_ranks(settings, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    digests = [
        [
            json.loads(line)
            for line in (out / "digests" / f"rank-{r}.jsonl").read_text().splitlines()
        ]
        for r in (0, 1)
    ]
    assert [d["step"] for d in digests[0]] == [1, 2]
    assert digests[0] == digests[1] and digests[0][0]["digest"] != digests[0][1]["digest"]
    draws = [
        {json.loads(line)["draw"] for line in (out / "pair_draws" / f"rank-{r}.jsonl").open()}
        for r in (0, 1)
    ]
    assert not draws[0] & draws[1] and draws[0] | draws[1] == set(range(8))
    record = json.loads((out / "training_config.json").read_text())
    assert record["family"] == "cogvideox" and record["world_size"] == 2
