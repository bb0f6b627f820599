"""The four trainable families at their real size and on the CPU: parameters, LoRA, memory, time.

For each family (``wan`` = Wan2.1-T2V-1.3B, ``cogvideox`` = CogVideoX1.5-5B, ``ltx`` = LTX-Video
2B 0.9.x, ``hunyuanvideo15`` = HunyuanVideo-1.5 480p T2V 8.3B) the script reports:

1. **Parameters at the real size.** The transformer is built from its published
   ``transformer/config.json`` (the values are written below as data, with their source; nothing
   is downloaded) on the ``meta`` device, so no weight is allocated; dsr's own
   :func:`dsr.training.model.add_lora` adds the adapter on the family's default modules
   (``family.lora_targets``, what ``dsr train`` uses when ``--lora-target-modules`` is left at
   its default) at the default rank and alpha. Printed: total transformer parameters, trainable
   LoRA parameters, and the ratio of the total to the published size.
2. **A memory ESTIMATE** for one training pair at the family's default resolution (the README's
   models table; Wan at the paper's 81×480×832), bf16 weights, fp32 LoRA, activation
   checkpointing on, winner and loser one after the other (``--pair-forward sequential``)::

       tokens  = ceil(F_lat / p_t) · (H / (s·p)) · (W / (s·p)) + joint text tokens
                 (F_lat = (frames − 1)/t + 1; t, s the VAE's time and space compression;
                 p_t, p the patch; text tokens counted for joint-attention families only)
       weights = 2 B · parameters                            (bf16, frozen)
       lora    = 16 B · LoRA parameters                      (fp32 weight, grad, AdamW m and v)
       saved   = 2 samples · blocks · tokens · d · 2 B       (each block's bf16 input, kept for
                                                              the backward of both halves)
       block   = k · tokens · d · 2 B                        (one block's temporaries, one sample,
                                                              recomputed in the backward)
       total   = weights + lora + saved + block

   ``d`` is the hidden width. ``k`` (hidden-sized values per token that one block's forward and
   backward hold at its peak) is calibrated per family with ``--calibrate``: one block of the real
   width (random weights, float32, no checkpointing) runs a forward and backward in a child
   forked after the imports (``benchmarks/bench_training.py``'s ``peak_rss_in_fork``: high-water
   mark of resident memory above a baseline) at two video-token counts; the slope of the peak
   over the tokens, divided by ``d`` · 4 B, is ``k``. Without ``--calibrate`` ``k`` = 20. It
   is an estimate: attention kernels, the VAE and text encoders (run once, before training, by
   the cache), CUDA workspace and fragmentation are not counted.
3. **One training step's CPU time** on tiny random pipelines (``dsr.generation.tiny*``, with
   ``--tiny-layers`` blocks) saved and loaded back through the production path
   (:func:`dsr.training.families.load_family`, :func:`dsr.training.model.load_transformer`):
   the trainer's loss (:meth:`SpatialAlignTrainer.compute_loss`: noising, reference with the
   adapter disabled, policy, DPO + ZO loss), backward and an AdamW step, checkpointing on;
   families interleaved round by round, CPU seconds of this process on ``--threads`` torch
   threads, min / median of ``--repeats`` rounds after one warm-up.

    python benchmarks/bench_families.py                   # all three parts
    python benchmarks/bench_families.py --calibrate       # k measured per family (minutes)
    python benchmarks/bench_families.py --repeats 0       # parameters and memory only
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_training import _machine, _status_bytes, peak_rss_in_fork  # noqa: E402

#: Largest relative distance of a parameter count from the published size that counts as near.
NEAR = 0.15

#: One block's temporaries in hidden-sized values per token, when not calibrated.
DEFAULT_K = 20.0


@dataclass(frozen=True)
class Real:
    """One family's published transformer and default training clip."""

    model: str
    transformer_class: str
    config: dict[str, Any]
    source: str
    published: float
    frames: int
    height: int
    width: int
    vae_t: int
    vae_s: int
    patch_t: int
    patch: int
    joint_text_tokens: int = 0
    blocks_attr: str = "transformer_blocks"


# Each config: the published transformer/config.json values that change the architecture
# (the rest are the diffusers class defaults, which are those of the same checkpoint).
REAL: dict[str, Real] = {
    # Wan-AI/Wan2.1-T2V-1.3B-Diffusers transformer/config.json; the same values as the authors'
    # wan/configs/wan_t2v_1_3B.py (dim 1536 = 12 × 128, ffn 8960, 30 layers, freq 256, text 4096).
    "wan": Real(
        "Wan2.1-T2V-1.3B",
        "WanTransformer3DModel",
        dict(
            patch_size=(1, 2, 2),
            num_attention_heads=12,
            attention_head_dim=128,
            in_channels=16,
            out_channels=16,
            text_dim=4096,
            freq_dim=256,
            ffn_dim=8960,
            num_layers=30,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
            eps=1e-6,
        ),
        "Wan2.1-T2V-1.3B-Diffusers transformer/config.json (Wan's wan_t2v_1_3B.py)",
        1.3e9,
        81,
        480,
        832,
        4,
        8,
        1,
        2,
        blocks_attr="blocks",
    ),
    # zai-org/CogVideoX1.5-5B transformer/config.json (diffusers
    # scripts/convert_cogvideox_to_diffusers.py --version 1.5: patch_size_t 2, no patch bias,
    # rotary positions): 48 heads × 64, 42 layers, text 4096, time embedding 512.
    "cogvideox": Real(
        "CogVideoX1.5-5B",
        "CogVideoXTransformer3DModel",
        dict(
            num_attention_heads=48,
            attention_head_dim=64,
            in_channels=16,
            out_channels=16,
            time_embed_dim=512,
            text_embed_dim=4096,
            num_layers=42,
            sample_width=300,
            sample_height=300,
            sample_frames=81,
            patch_size=2,
            patch_size_t=2,
            patch_bias=False,
            temporal_compression_ratio=4,
            max_text_seq_length=226,
            use_rotary_positional_embeddings=True,
            use_learned_positional_embeddings=False,
        ),
        "CogVideoX1.5-5B transformer/config.json (diffusers convert_cogvideox_to_diffusers.py)",
        5e9,
        81,
        768,
        1360,
        4,
        8,
        2,
        2,
        joint_text_tokens=226,
    ),
    # Lightricks/LTX-Video transformer/config.json (0.9.x 2B): the defaults of diffusers'
    # LTXVideoTransformer3DModel, which scripts/convert_ltx_to_diffusers.py writes for 0.9.x:
    # 128 latent channels, patch 1, 32 heads × 64, 28 layers, cross-attention 2048, caption 4096.
    "ltx": Real(
        "LTX-Video 2B (0.9.x)",
        "LTXVideoTransformer3DModel",
        dict(
            in_channels=128,
            out_channels=128,
            patch_size=1,
            patch_size_t=1,
            num_attention_heads=32,
            attention_head_dim=64,
            cross_attention_dim=2048,
            num_layers=28,
            caption_channels=4096,
        ),
        "LTX-Video transformer/config.json (diffusers LTXVideoTransformer3DModel defaults)",
        2e9,
        161,
        480,
        704,
        8,
        32,
        1,
        1,
    ),
    # hunyuanvideo-community/HunyuanVideo-1.5-480p_t2v transformer/config.json: diffusers
    # scripts/convert_hunyuan_video1_5_to_diffusers.py TRANSFORMER_CONFIGS["480p_t2v"]
    # (target_size 640, task_type "i2v" as written there) over the class defaults (in 65, out 32,
    # 16 heads × 128, 54 layers, 2 refiner layers, mlp 4, text 3584, glyph 1472, image 1152).
    "hunyuanvideo15": Real(
        "HunyuanVideo-1.5 480p T2V",
        "HunyuanVideo15Transformer3DModel",
        dict(
            in_channels=65,
            out_channels=32,
            num_attention_heads=16,
            attention_head_dim=128,
            num_layers=54,
            num_refiner_layers=2,
            mlp_ratio=4.0,
            patch_size=1,
            patch_size_t=1,
            qk_norm="rms_norm",
            text_embed_dim=3584,
            text_embed_2_dim=1472,
            image_embed_dim=1152,
            rope_theta=256.0,
            rope_axes_dim=(16, 56, 56),
            target_size=640,
            task_type="i2v",
        ),
        "HunyuanVideo-1.5-480p_t2v transformer/config.json (diffusers "
        "convert_hunyuan_video1_5_to_diffusers.py)",
        8.3e9,
        121,
        480,
        848,
        4,
        16,
        1,
        1,
        # Qwen text 1000 + ByT5 glyph 256 + 729 (zero) image tokens, attended jointly
        joint_text_tokens=1000 + 256 + 729,
    ),
}

FAMILIES = tuple(REAL)


def family_targets(name: str) -> tuple[str, ...]:
    """The family's default LoRA modules (``family.lora_targets``, what ``dsr train`` adapts
    when ``--lora-target-modules`` is left at its default)."""
    return tuple(_family(name).lora_targets)


def lora_settings(name: str) -> SimpleNamespace:
    """What :func:`add_lora` reads, at ``dsr train``'s defaults (rank, alpha, dropout)."""
    from dsr.training.options import SpatialAlignOptions

    fields = SpatialAlignOptions.__dataclass_fields__
    return SimpleNamespace(
        lora_rank=fields["lora_rank"].default,
        lora_alpha=fields["lora_alpha"].default,
        lora_dropout=fields["lora_dropout"].default,
        lora_target_modules=list(family_targets(name)),
    )


def count_parameters(model: Any, name: str) -> tuple[int, int, list[str]]:
    """(base parameters, trainable LoRA parameters, adapted module names) of ``model`` once
    dsr's adapter is added; the count is taken before, so the base excludes the adapter."""
    from dsr.training.model import add_lora, lora_parameters

    total = sum(p.numel() for p in model.parameters())
    targets = add_lora(model, lora_settings(name))  # type: ignore[arg-type]
    lora = sum(p.numel() for p in lora_parameters(model).values() if p.requires_grad)
    return total, lora, targets


def real_transformer(name: str) -> Any:
    """The real-size transformer on the meta device (no memory allocated)."""
    import diffusers

    real = REAL[name]
    with torch.device("meta"):
        return getattr(diffusers, real.transformer_class)(**real.config)


def real_parameters(name: str) -> dict[str, Any]:
    model = real_transformer(name)
    total, lora, targets = count_parameters(model, name)
    return {"total": total, "lora": lora, "modules": len(targets), "blocks": _blocks(model, name)}


def _blocks(model: Any, name: str) -> int:
    return len(getattr(model, REAL[name].blocks_attr))


def _width(name: str) -> int:
    c = REAL[name].config
    return int(c["num_attention_heads"] * c["attention_head_dim"])


def tokens(name: str) -> tuple[int, int]:
    """(video tokens, joint text tokens) of one sample at the family's default clip."""
    r = REAL[name]
    latent_frames = (r.frames - 1) // r.vae_t + 1
    video = (
        math.ceil(latent_frames / r.patch_t)
        * (r.height // (r.vae_s * r.patch))
        * (r.width // (r.vae_s * r.patch))
    )
    return video, r.joint_text_tokens


def estimate(name: str, params: dict[str, Any], k: float) -> dict[str, float]:
    """The memory estimate of the module docstring, in bytes."""
    video, text = tokens(name)
    n = video + text
    d = _width(name)
    parts = {
        "weights": 2.0 * params["total"],
        "lora": 16.0 * params["lora"],
        "saved": 2.0 * params["blocks"] * n * d * 2,
        "block": k * n * d * 2,
    }
    parts["total"] = sum(parts.values())
    return parts


# -- calibration of k --------------------------------------------------------------------------


def _one_block(name: str) -> Any:
    import diffusers

    real = REAL[name]
    config = {**real.config, "num_layers": 1}
    torch.manual_seed(0)
    return getattr(diffusers, real.transformer_class)(**config).float()


def _calibration_inputs(name: str, video_tokens: int) -> tuple[torch.Tensor, dict[str, Any]]:
    """Latents of ``video_tokens`` tokens (8 patches tall, one sample) and 16 text tokens."""
    r = REAL[name]
    c = r.config
    side = r.patch
    latents = torch.randn(1, c["out_channels"], r.patch_t, 8 * side, video_tokens // 8 * side)
    text_dim = c.get("text_dim") or c.get("text_embed_dim") or c.get("caption_channels")
    text = torch.randn(1, 16, int(text_dim))
    extra = text_extra(_family(name), 16, int(c.get("text_embed_2_dim", 0)))
    return latents, {"text": text, "extra": extra}


def text_extra(family: Any, length: int, dim_2: int) -> dict[str, torch.Tensor]:
    """The family's text tensors after ``prompt_embeds``: masks all ones, HunyuanVideo 1.5's
    glyph embeddings random."""
    return {
        key: torch.ones(1, length) if "mask" in key else torch.randn(1, length, dim_2)
        for key in family.text_keys[1:]
    }


def _family(name: str) -> Any:
    """The family's training interface, configured as its real checkpoint configures it
    (CogVideoX: the ᾱ schedule only matters to noising, not to the shapes used here)."""
    from dsr.training.families.cogvideox import CogVideoXFamily
    from dsr.training.families.hunyuanvideo15 import HunyuanVideo15Family
    from dsr.training.families.ltx import LTXFamily
    from dsr.training.families.wan import WanFamily

    if name == "cogvideox":
        return CogVideoXFamily((0.5,) * 1000, 2)
    if name == "hunyuanvideo15":
        return HunyuanVideo15Family(image_embed_dim=REAL[name].config["image_embed_dim"])
    if name == "ltx":
        return LTXFamily()
    return WanFamily()


def _block_peak(name: str, video_tokens: int) -> int:
    """In a forked child: bytes above the built model that one forward + backward holds."""

    def run() -> int:
        start = _status_bytes("VmRSS")
        model = _one_block(name)
        model.requires_grad_(False)
        from dsr.training.model import add_lora

        add_lora(model, lora_settings(name))  # type: ignore[arg-type]
        latents, inputs = _calibration_inputs(name, video_tokens)
        built = _status_bytes("VmRSS") - start
        family = _family(name)
        t = torch.tensor([500.0])
        out = family.predict(model, latents, t, inputs["text"], inputs["extra"])
        out.float().square().mean().backward()
        return built

    peak, built = peak_rss_in_fork(run)
    return int(peak) - int(built)


def calibrate(name: str, small: int = 256, large: int = 768) -> float:
    """k from the slope of one real-width block's peak between two token counts."""
    slope = (_block_peak(name, large) - _block_peak(name, small)) / (large - small)
    return slope / (_width(name) * 4)


# -- one tiny training step --------------------------------------------------------------------


@dataclass
class TinyRun:
    name: str
    trainer: Any
    model: Any
    optimizer: Any
    inputs: dict[str, Any] = field(default_factory=dict)


#: latent (channels, frames, height, width) of a tiny sample per family, and text tensors.
TINY_LATENTS = {
    "wan": (16, 5, 16, 16),
    "cogvideox": (4, 8, 4, 4),  # the tiny model's rotary grid (sample 4×4) bounds the size
    "ltx": (8, 5, 16, 16),
    "hunyuanvideo15": (4, 5, 16, 16),
}


def save_tiny(name: str, path: Path, layers: int) -> Path:
    from dsr.generation.tiny import save_tiny_wan
    from dsr.generation.tiny_families import (
        save_tiny_cogvideox,
        save_tiny_hunyuanvideo15,
        save_tiny_ltx,
    )

    builder = {
        "wan": save_tiny_wan,
        "cogvideox": save_tiny_cogvideox,
        "ltx": save_tiny_ltx,
        "hunyuanvideo15": save_tiny_hunyuanvideo15,
    }[name]
    return builder(path, num_layers=layers)


def _tiny_inputs(name: str, model: Any) -> dict[str, Any]:
    c, f, h, w = TINY_LATENTS[name]
    g = torch.Generator().manual_seed(0)
    cfg = model.transformer.config
    text_dim = int(
        cfg.get("text_dim") or cfg.get("text_embed_dim") or cfg.get("caption_channels") or 16
    )
    length = 226 if name == "cogvideox" else 16
    inputs: dict[str, Any] = {
        "x0_chosen": torch.randn(1, c, f, h, w, generator=g),
        "x0_rejected": torch.randn(1, c, f, h, w, generator=g),
        "noise_chosen": torch.randn(1, c, f, h, w, generator=g),
        "noise_rejected": torch.randn(1, c, f, h, w, generator=g),
        "sigma": torch.tensor([0.7]),
        "timestep": torch.tensor([700.0]),
        "prompt_embeds": torch.randn(1, length, text_dim, generator=g),
    }
    extra = text_extra(model.family, length, int(cfg.get("text_embed_2_dim", 0)))
    if extra:
        inputs["text_extra"] = extra
    return inputs


def tiny_run(name: str, folder: Path, out: Path) -> TinyRun:
    """The tiny pipeline's transformer, loaded as ``dsr train`` loads it, with dsr's adapter and
    a SpatialAlignTrainer around it."""
    from dsr.training.config import SpatialAlignConfig
    from dsr.training.families import load_family
    from dsr.training.model import SpatialAlignModel, add_lora, load_transformer, lora_parameters
    from dsr.training.trainer import SpatialAlignTrainer

    family = load_family(str(folder))
    config = SpatialAlignConfig(
        output_dir=str(out),
        dataset=str(folder),
        base_model=str(folder),
        use_cpu=True,
        report_to="none",
        lora_target_modules=list(family.lora_targets),
    )
    transformer = load_transformer(config, family)
    add_lora(transformer, config)
    transformer.enable_gradient_checkpointing()
    transformer.train()
    model = SpatialAlignModel(transformer, family)
    trainer = SpatialAlignTrainer(model=model, args=config)
    optimizer = torch.optim.AdamW(list(lora_parameters(transformer).values()), lr=1e-4)
    return TinyRun(name, trainer, model, optimizer, _tiny_inputs(name, model))


def tiny_step(run: TinyRun) -> float:
    """One step: the trainer's loss, backward, AdamW; returns the loss."""
    run.optimizer.zero_grad(set_to_none=True)
    loss = run.trainer.compute_loss(run.model, run.inputs)
    loss.backward()
    run.optimizer.step()
    return float(loss.detach())


def time_tiny(runs: list[TinyRun], repeats: int) -> dict[str, list[float]]:
    """CPU seconds per step, families interleaved (the first rotating), after one warm-up."""
    times: dict[str, list[float]] = {r.name: [] for r in runs}
    for r in runs:  # warm-up; LoRA B starts at 0, so policy = reference and the loss is ln 2
        loss = tiny_step(r)
        if abs(loss - math.log(2)) > 1e-4:
            raise RuntimeError(f"{r.name}: first loss {loss}, not ln 2: the step is not dsr's")
    for i in range(repeats):
        for r in runs[i % len(runs) :] + runs[: i % len(runs)]:
            start = time.process_time()
            tiny_step(r)
            times[r.name].append(time.process_time() - start)
    return times


# -- report ------------------------------------------------------------------------------------


def _b(x: float) -> str:
    return f"{x / 1e9:,.2f} B"


def _gib(x: float) -> str:
    return f"{x / 2**30:,.1f}"


def report(names: list[str], params: dict, ks: dict, times: dict, args: argparse.Namespace) -> None:
    print(f"machine: {_machine(args)}")
    print()
    print(
        "| family | model | transformer params | vs published | LoRA params (rank "
        f"{lora_settings('wan').lora_rank}, modules) | clip (frames×H×W) | tokens/sample "
        "(video + text) | k | est. memory GiB: weights + LoRA/AdamW + saved + block = total "
        f"| tiny step CPU s min / median ({args.tiny_layers} blocks) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        r, p = REAL[name], params[name]
        video, text = tokens(name)
        e = estimate(name, p, ks[name][0])
        ratio = p["total"] / r.published
        near = "near" if abs(ratio - 1) <= NEAR else "FAR from"
        t = times.get(name)
        step = f"{min(t):.2f} / {statistics.median(t):.2f}" if t else "not timed"
        print(
            f"| `{name}` | {r.model} | {_b(p['total'])} | {ratio:.2f}×, {near} {_b(r.published)} | "
            f"{p['lora'] / 1e6:,.2f} M ({p['modules']}) | {r.frames}×{r.height}×{r.width} | "
            f"{video:,} + {text:,} | {ks[name][0]:.1f}{ks[name][1]} | "
            f"{_gib(e['weights'])} + {_gib(e['lora'])} + {_gib(e['saved'])} + "
            f"{_gib(e['block'])} = **{_gib(e['total'])}** | {step} |"
        )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    p.add_argument("--calibrate", action="store_true", help="measure k per family (minutes)")
    p.add_argument("--repeats", type=int, default=3, help="timed rounds (0: no timing)")
    p.add_argument("--tiny-layers", type=int, default=4, help="blocks of the tiny transformers")
    p.add_argument("--threads", type=int, default=1, help="torch threads for the timing")
    return p


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    import logging

    logging.disable(logging.WARNING)
    names = list(args.families)
    params = {n: real_parameters(n) for n in names}
    ks = {n: ((calibrate(n), " (measured)") if args.calibrate else (DEFAULT_K, "")) for n in names}
    times: dict[str, list[float]] = {}
    if args.repeats:
        with tempfile.TemporaryDirectory() as tmp:
            runs = [
                tiny_run(n, save_tiny(n, Path(tmp, n), args.tiny_layers), Path(tmp, "out", n))
                for n in names
            ]
            times = time_tiny(runs, args.repeats)
    report(names, params, ks, times, args)
    return {"params": params, "k": ks, "times": times}


if __name__ == "__main__":
    main()
