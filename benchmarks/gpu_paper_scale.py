"""Paper-scale cost on one GPU: a SpatialAlign training step (ours, both pair forwards, against the
authors' step) and the seconds to generate one video, with the real Wan2.1-T2V-1.3B architecture
and random weights (no download).

Sizes: ``paper`` is Wan2.1-T2V-1.3B (the published ``transformer/config.json``: 30 blocks, 12 heads
of 128, FFN 8960, text dim 4096) at 81×480×832 (latents 16×21×60×104, 32,760 tokens per sample),
the default ``AutoencoderKLWan`` (the published VAE config) and a UMT5-XXL text encoder (24
layers, d_model 4096; ``--text-encoder tiny`` swaps in a one-layer random one: the text encoder runs
once per video, so it barely moves the generation time); ``tiny`` is a CPU-sized stand-in that
exercises the same code in seconds. Training uses activation checkpointing (as the authors'
``run_train.sh``), bf16 weights on a GPU and a float32 LoRA (rank 16 on the text projection and the
cross-attention keys and values), random latents and text embeddings (training reads cached ones).

Variants of the step, all with the same loss (``dsr.training.loss.dpo_zo_loss``, docs/method.md
§6), run one after the other in this process with the peak-memory counter reset in between:

- ``ours-batched``: winner and loser in one batch of 2; the reference is the same network with
  the adapter disabled (no copy of the weights);
- ``ours-sequential``: the same, one sample per forward;
- ``authors``: a deep copy of the frozen base model as the reference, four separate forwards.

Reports per variant the median step time after warm-up and ``torch.cuda.max_memory_allocated``
(on the CPU: no memory figure), then the generation time; one JSON line per result.

    bash benchmarks/gpu_paper_scale.sh                   # the paper size on cuda:0
    python benchmarks/gpu_paper_scale.py --size tiny     # CPU check of the code path
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import json
import statistics
import time
from collections.abc import Iterator
from typing import Any

import torch
from bench_training import add_lora  # the same adapter as the CPU benchmark

#: Wan2.1-T2V-1.3B's transformer config (diffusers format) and a tiny one of the same class.
TRANSFORMER: dict[str, dict[str, Any]] = {
    "paper": {
        "num_layers": 30,
        "num_attention_heads": 12,
        "attention_head_dim": 128,
        "ffn_dim": 8960,
        "text_dim": 4096,
        "freq_dim": 256,
        "eps": 1e-6,
    },
    "tiny": {
        "num_layers": 2,
        "num_attention_heads": 2,
        "attention_head_dim": 16,
        "ffn_dim": 64,
        "text_dim": 32,
        "freq_dim": 32,
        "eps": 1e-6,
    },
}
#: Video (frames, height, width) per size; latents are 16 × (1 + (F−1)/4) × H/8 × W/8.
VIDEO = {"paper": (81, 480, 832), "tiny": (9, 32, 48)}
#: UMT5-XXL (the encoder of google/umt5-xxl that Wan uses) and a one-layer stand-in.
TEXT_ENCODER: dict[str, dict[str, Any]] = {
    "real": {
        "vocab_size": 256384,
        "d_model": 4096,
        "d_kv": 64,
        "d_ff": 10240,
        "num_layers": 24,
        "num_heads": 64,
        "relative_attention_num_buckets": 32,
        "relative_attention_max_distance": 128,
        "feed_forward_proj": "gated-gelu",
    },
    "tiny": {"d_model": 32, "d_kv": 8, "d_ff": 64, "num_layers": 1, "num_heads": 4},
}
TEXT_LEN = {"paper": 512, "tiny": 16}
#: A VAE that compresses like Wan's (4× in time, 8× in space) with a few thousand weights.
TINY_VAE = {"base_dim": 3, "dim_mult": [1, 1, 1, 1], "num_res_blocks": 1}
VARIANTS = ("ours-batched", "ours-sequential", "authors")


def latent_shape(size: str) -> tuple[int, int, int, int]:
    frames, height, width = VIDEO[size]
    return 16, 1 + (frames - 1) // 4, height // 8, width // 8


@contextlib.contextmanager
def building(device: str, dtype: torch.dtype) -> Iterator[None]:
    """Modules built inside are created directly on ``device`` in ``dtype`` (a 5.7 B-parameter
    text encoder never passes through host memory in float32)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            yield
    finally:
        torch.set_default_dtype(previous)


def transformer(size: str, device: str, dtype: torch.dtype) -> Any:
    from diffusers import WanTransformer3DModel

    torch.manual_seed(0)
    with building(device, dtype):
        model = WanTransformer3DModel(
            patch_size=(1, 2, 2),
            in_channels=16,
            out_channels=16,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
            **TRANSFORMER[size],
        )
    return model.requires_grad_(False)


def batch(size: str, device: str) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    shape = (1, *latent_shape(size))
    out = {k: torch.randn(shape, generator=g) for k in ("x0_w", "x0_l", "n_w", "n_l")}
    out["text"] = torch.randn(1, TEXT_LEN[size], TRANSFORMER[size]["text_dim"], generator=g)
    return {k: v.to(device) for k, v in out.items()}


def _forward(model: Any, x: torch.Tensor, t: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    out = model(
        hidden_states=x.to(model.dtype),
        timestep=t,
        encoder_hidden_states=text.to(model.dtype),
        return_dict=False,
    )
    return out[0]


def predictions(
    variant: str, model: Any, reference: Any, b: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, ...]:
    """(pred_w, pred_l, ref_w, ref_l, v_w, v_l) of one pair at σ = 0.7."""
    from dsr.training.model import SpatialAlignModel

    sigma = 0.7
    xw = (1 - sigma) * b["x0_w"] + sigma * b["n_w"]
    xl = (1 - sigma) * b["x0_l"] + sigma * b["n_l"]
    vw, vl = b["n_w"] - b["x0_w"], b["n_l"] - b["x0_l"]
    if variant == "authors":
        t = torch.full((1,), 1000 * sigma, device=xw.device)
        pw, pl = _forward(model, xw, t, b["text"]), _forward(model, xl, t, b["text"])
        with torch.no_grad():
            rw, rl = _forward(reference, xw, t, b["text"]), _forward(reference, xl, t, b["text"])
        return pw, pl, rw, rl, vw, vl
    wrapper = SpatialAlignModel(model)
    x, text = torch.cat([xw, xl]), b["text"].repeat(2, 1, 1)
    t = torch.full((2,), 1000 * sigma, device=xw.device)
    sequential = variant == "ours-sequential"
    model.disable_adapters()
    with torch.no_grad():
        ref = wrapper(x, t, text, sequential=sequential)
    model.enable_adapters()
    pred = wrapper(x, t, text, sequential=sequential)
    return (*pred.chunk(2), *ref.chunk(2), vw, vl)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _reset_peak(device: str) -> None:
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak_gib(device: str) -> float | None:
    return torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None


def train_step(variant: str, size: str, device: str, steps: int) -> dict[str, Any]:
    """Median step time (s) and peak memory (GiB) of one variant, with its loss."""
    from dsr.training.loss import dpo_zo_loss

    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    _reset_peak(device)
    model = transformer(size, device, dtype)
    model.enable_gradient_checkpointing()
    reference = copy.deepcopy(model) if variant == "authors" else None
    opt = torch.optim.AdamW(add_lora(model), lr=1e-4)
    b = batch(size, device)
    times, loss = [], float("nan")
    for i in range(steps + 1):  # the first step warms up
        _sync(device)
        start = time.perf_counter()
        value, _ = dpo_zo_loss(*predictions(variant, model, reference, b))
        value.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        _sync(device)
        if i == 0:
            loss = float(value.detach())
        else:
            times.append(time.perf_counter() - start)
    result = {
        "what": "train step",
        "variant": variant,
        "step_s": statistics.median(times),
        "max_memory_allocated_gib": _peak_gib(device),
        "first_loss": loss,
    }
    del model, reference, opt, b
    _reset_peak(device)
    return result


def pipeline(size: str, text_encoder: str, device: str) -> Any:
    """A ``WanPipeline`` of random components of the real (or tiny) architecture."""
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline
    from transformers import UMT5Config, UMT5EncoderModel

    from dsr.generation.tiny import _tokenizer

    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    config = dict(TEXT_ENCODER[text_encoder])
    if text_encoder == "tiny":
        config["d_model"] = TRANSFORMER[size]["text_dim"]
    tokenizer = _tokenizer()
    config.setdefault("vocab_size", len(tokenizer))
    with building(device, dtype):
        encoder = UMT5EncoderModel(UMT5Config(**config))
    if encoder.config.d_model != TRANSFORMER[size]["text_dim"]:
        raise SystemExit(
            f"text encoder width {encoder.config.d_model} != transformer text_dim "
            f"{TRANSFORMER[size]['text_dim']}: use --text-encoder tiny with --size tiny"
        )
    with building(device, torch.float32):
        vae = AutoencoderKLWan(**({} if size == "paper" else TINY_VAE))
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0
    )
    return WanPipeline(
        tokenizer=tokenizer,
        text_encoder=encoder.eval(),
        transformer=transformer(size, device, dtype).eval(),
        vae=vae.eval(),
        scheduler=scheduler,
    )


def generation(size: str, text_encoder: str, device: str, steps: int) -> dict[str, Any]:
    """Seconds to generate one video (prompt encoding, ``steps`` denoising steps with classifier-
    free guidance, VAE decoding) after a one-step warm-up, and the peak memory."""
    _reset_peak(device)
    pipe = pipeline(size, text_encoder, device)
    frames, height, width = VIDEO[size]
    kwargs = {"height": height, "width": width, "num_frames": frames, "output_type": "np"}
    prompt = "a rabbit hops from the left of a stump to the right of it"
    with torch.inference_mode():
        pipe(prompt, num_inference_steps=1, **kwargs)
        _sync(device)
        start = time.perf_counter()
        video = pipe(prompt, num_inference_steps=steps, guidance_scale=5.0, **kwargs).frames[0]
        _sync(device)
    result = {
        "what": "generate one video",
        "seconds": time.perf_counter() - start,
        "denoising_steps": steps,
        "frames": list(video.shape),
        "text_encoder": text_encoder,
        "max_memory_allocated_gib": _peak_gib(device),
    }
    del pipe
    _reset_peak(device)
    return result


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(VIDEO), default="paper")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=3, help="timed training steps per variant")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--gen-steps", type=int, default=50, help="denoising steps per video")
    parser.add_argument("--text-encoder", choices=sorted(TEXT_ENCODER), default=None)
    parser.add_argument("--skip-generation", action="store_true")
    args = parser.parse_args(argv)
    text_encoder = args.text_encoder or ("real" if args.size == "paper" else "tiny")
    context = {"size": args.size, "device": args.device, "video": VIDEO[args.size]}
    if args.device.startswith("cuda"):
        context["gpu"] = torch.cuda.get_device_name()
    results = []
    for variant in args.variants:
        results.append({**context, **train_step(variant, args.size, args.device, args.steps)})
        print(json.dumps(results[-1]), flush=True)
    if not args.skip_generation:
        results.append(
            {**context, **generation(args.size, text_encoder, args.device, args.gen_steps)}
        )
        print(json.dumps(results[-1]), flush=True)
    return results


if __name__ == "__main__":
    main()
