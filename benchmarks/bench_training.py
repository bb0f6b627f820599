"""SpatialAlign step: ours (adapter disabled for the reference; winner and loser in one batched
forward, ``ours``, or one after the other, ``ours-sequential``: the default) against the authors'
(a deep-copied reference model, four separate forwards).

Each variant runs in its own process so that its peak memory is its own: on the CPU the peak RSS
minus the RSS taken after every heavy import (torch, diffusers, peft, dsr), so it counts weights,
copies, activations and optimizer state only; on a GPU ``torch.cuda.max_memory_allocated``.
Activation checkpointing is on, as the authors always run (``--no-checkpointing`` turns it off).
All variants train the same LoRA on the same random latents, and the run fails unless their first
step gives the same loss and the same LoRA gradients. The ranking flips with the sequence length,
so the CPU size sweeps it (``--tokens``, latent tokens per sample: 960 = 5×12×16 after Wan's 1×2×2
patches). The figures are medians over the timed steps (CPU time of the process on the CPU, on
``--threads`` threads), ratios against the authors' step measured in the same run. The ZO
share is the time of the ZO term (the loss with reg=zo minus reg=none, both on the step's own
predictions) over our step time.

    python benchmarks/bench_training.py                          # CPU-sized Wan, 960/3840/7680
    python benchmarks/bench_training.py --tokens 3840 --layers 2
    python benchmarks/bench_training.py --size real              # Wan2.1-1.3B, 81×480×832 (GPU)
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import torch

#: Transformer sizes and latent shapes (C, F, H, W). "real" is Wan2.1-T2V-1.3B at 81×480×832.
SIZES: dict[str, dict[str, Any]] = {
    "cpu": {
        "model": {
            "num_layers": 6,
            "num_attention_heads": 6,
            "attention_head_dim": 64,
            "ffn_dim": 1536,
            "text_dim": 768,
            "freq_dim": 256,
        },
        "latents": (16, 5, 24, 32),
        "text_len": 128,
    },
    "real": {
        "model": {
            "num_layers": 30,
            "num_attention_heads": 12,
            "attention_head_dim": 128,
            "ffn_dim": 8960,
            "text_dim": 4096,
            "freq_dim": 256,
        },
        "latents": (16, 21, 60, 104),
        "text_len": 512,
    },
}
VARIANTS = ("ours", "ours-sequential", "authors")
#: CPU latent shapes (C, F, H, W) by tokens per sample (F × H/2 × W/2).
CPU_LATENTS = {960: (16, 5, 24, 32), 3840: (16, 5, 48, 64), 7680: (16, 10, 48, 64)}


def _configure(size: str, tokens: int | None, layers: int | None) -> None:
    """Apply the --tokens / --layers choice to ``SIZES`` (in this process)."""
    if tokens is not None:
        SIZES[size]["latents"] = CPU_LATENTS[tokens]
    if layers is not None:
        SIZES[size]["model"]["num_layers"] = layers


def _model(size: str, device: str, dtype: torch.dtype, checkpointing: bool) -> Any:
    from diffusers import WanTransformer3DModel

    torch.manual_seed(0)
    model = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        in_channels=16,
        out_channels=16,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        **SIZES[size]["model"],
    )
    model = model.to(device, dtype).requires_grad_(False)
    if checkpointing:
        model.enable_gradient_checkpointing()
    return model


def add_lora(model: Any) -> list[torch.nn.Parameter]:
    """The paper's LoRA (rank 16, alpha 16, the default target modules), trainable in fp32."""
    from peft import LoraConfig

    from dsr.training.model import expand_targets
    from dsr.training.options import DEFAULT_LORA_TARGETS

    model.add_adapter(
        LoraConfig(
            r=16, lora_alpha=16, target_modules=expand_targets(model, list(DEFAULT_LORA_TARGETS))
        )
    )
    params = [p for n, p in model.named_parameters() if "lora_" in n]
    for p in params:
        p.data = p.data.float()
    return params


def _batch(size: str, device: str) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    shape = (1, *SIZES[size]["latents"])
    text_dim = SIZES[size]["model"]["text_dim"]
    t = {k: torch.randn(shape, generator=g) for k in ("x0_w", "x0_l", "n_w", "n_l")}
    t["text"] = torch.randn(1, SIZES[size]["text_len"], text_dim, generator=g)
    return {k: v.to(device) for k, v in t.items()}


def _noisy(b: dict[str, torch.Tensor], sigma: float) -> tuple[torch.Tensor, ...]:
    xw = (1 - sigma) * b["x0_w"] + sigma * b["n_w"]
    xl = (1 - sigma) * b["x0_l"] + sigma * b["n_l"]
    return xw, xl, b["n_w"] - b["x0_w"], b["n_l"] - b["x0_l"]


def _run(model: Any, x: torch.Tensor, t: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    return model(
        hidden_states=x.to(model.dtype),
        timestep=t,
        encoder_hidden_states=text.to(model.dtype),
        return_dict=False,
    )[0]


def step_ours(model: Any, b: dict[str, torch.Tensor], sequential: bool) -> tuple[torch.Tensor, ...]:
    from dsr.training.model import SpatialAlignModel

    wrapper = SpatialAlignModel(model)
    xw, xl, vw, vl = _noisy(b, 0.7)
    x, t, text = (
        torch.cat([xw, xl]),
        torch.full((2,), 700.0, device=xw.device),
        b["text"].repeat(2, 1, 1),
    )
    model.disable_adapters()
    with torch.no_grad():
        ref = wrapper(x, t, text, sequential=sequential)
    model.enable_adapters()
    pred = wrapper(x, t, text, sequential=sequential)
    return (*pred.chunk(2), *ref.chunk(2), vw, vl)


def step_authors(
    model: Any, reference: Any, b: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, ...]:
    xw, xl, vw, vl = _noisy(b, 0.7)
    t = torch.full((1,), 700.0, device=xw.device)
    pred_w, pred_l = _run(model, xw, t, b["text"]), _run(model, xl, t, b["text"])
    with torch.no_grad():
        ref_w, ref_l = _run(reference, xw, t, b["text"]), _run(reference, xl, t, b["text"])
    return pred_w, pred_l, ref_w, ref_l, vw, vl


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def measure(
    variant: str, size: str, steps: int, device: str, dtype: torch.dtype, checkpointing: bool
) -> dict[str, Any]:
    # every heavy import before the baseline (diffusers' and peft's classes load lazily, on first
    # access): the libraries' memory is not the step's
    from diffusers import WanTransformer3DModel  # noqa: F401
    from peft import LoraConfig  # noqa: F401

    import dsr.training.model  # noqa: F401
    import dsr.training.options  # noqa: F401
    from dsr.training.loss import dpo_zo_loss

    baseline = _rss_now() if not device.startswith("cuda") else 0
    model = _model(size, device, dtype, checkpointing)
    reference = (
        copy.deepcopy(model) if variant == "authors" else None
    )  # the authors copy the base model
    params = add_lora(model)
    opt = torch.optim.AdamW(params, lr=1e-4)
    b = _batch(size, device)
    times, zo_times = [], []
    first: dict[str, float] = {}
    for i in range(steps + 2):
        _sync(device)
        start = _clock()
        outs = (
            step_authors(model, reference, b)
            if variant == "authors"
            else step_ours(model, b, sequential=variant == "ours-sequential")
        )
        loss, _ = dpo_zo_loss(*outs)
        loss.backward()
        if i == 0:
            first = {
                "loss": float(loss),
                "grad_abs_sum": float(
                    sum(p.grad.abs().sum() for p in params if p.grad is not None)
                ),
            }
        opt.step()
        opt.zero_grad(set_to_none=True)
        _sync(device)
        if i >= 2:  # two warm-up steps
            times.append(_clock() - start)
            zo_times.append(_zo_time(outs, device))
    peak = (
        torch.cuda.max_memory_allocated()
        if device.startswith("cuda")
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - baseline
    )
    return {
        "variant": variant,
        "step_s": statistics.median(times),
        "zo_s": statistics.median(zo_times),
        "peak_bytes": peak,
        "device": device,
        "size": size,
        **first,
    }


def _clock() -> float:
    """CPU seconds of this process on the CPU (other jobs on the machine do not inflate them; the
    thread count is fixed by --threads), wall seconds on a GPU."""
    return time.perf_counter() if torch.cuda.is_available() else time.process_time()


def _rss_now() -> int:
    """Resident memory of this process now (bytes): the libraries' share, left out of the peak."""
    import os

    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _zo_time(outs: tuple[torch.Tensor, ...], device: str, repeats: int = 5) -> float:
    from dsr.training.loss import dpo_zo_loss

    detached = [o.detach() for o in outs]

    def timed(reg: str) -> float:
        _sync(device)
        start = _clock()
        for _ in range(repeats):
            dpo_zo_loss(*detached, reg=reg)
        _sync(device)
        return (_clock() - start) / repeats

    return max(0.0, timed("zo") - timed("none"))


def _child(args: argparse.Namespace, variant: str) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        variant,
        "--size",
        args.size,
        "--steps",
        str(args.steps),
        "--threads",
        str(args.threads),
    ]
    if args.tokens_now:
        cmd += ["--tokens", str(args.tokens_now)]
    if args.layers is not None:
        cmd += ["--layers", str(args.layers)]
    cmd.append("--checkpointing" if args.checkpointing else "--no-checkpointing")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _same_step(results: dict[str, dict[str, Any]]) -> None:
    """Every variant's first step: the same loss and the same LoRA gradients (or the figures
    compare different computations)."""
    base = results["authors"]
    for name, r in results.items():
        for key in ("loss", "grad_abs_sum"):
            if abs(r[key] - base[key]) > 1e-4 * max(1.0, abs(base[key])):
                raise SystemExit(f"{name} {key}={r[key]!r} differs from the authors' {base[key]!r}")


def _report(args: argparse.Namespace, device: str, dtype: torch.dtype) -> None:
    results = {v: _child(args, v) for v in VARIANTS}
    _same_step(results)
    base = results["authors"]
    unit = "max allocated" if device == "cuda" else "peak RSS-base"
    layers = args.layers or SIZES[args.size]["model"]["num_layers"]
    print(
        f"SpatialAlign step, {args.size} Wan ({layers} layers, {args.tokens_now} tokens) on "
        f"{device} ({dtype}), {args.steps} timed steps, checkpointing "
        f"{'on' if args.checkpointing else 'off'}, {args.threads} thread(s), CPU time; same loss "
        "and LoRA gradients checked; ratios vs the authors' step"
    )
    print(
        f"{'variant':<18}{'step (s)':>10}{'time ratio':>12}{unit:>16}{'mem ratio':>11}"
        f"{'ZO share':>10}"
    )
    for name, r in results.items():
        print(
            f"{name:<18}{r['step_s']:>10.3f}{r['step_s'] / base['step_s']:>12.2f}"
            f"{r['peak_bytes'] / 2**20:>13.0f} MiB{r['peak_bytes'] / base['peak_bytes']:>11.2f}"
            f"{r['zo_s'] / r['step_s']:>10.2%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="cpu")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument(
        "--tokens",
        type=int,
        nargs="+",
        choices=sorted(CPU_LATENTS),
        help="latent tokens per sample of the cpu size (default: all three)",
    )
    parser.add_argument("--layers", type=int, help="transformer blocks of the cpu size")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (CPU time is timed)")
    parser.add_argument(
        "--checkpointing",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="activation checkpointing (the authors always turn it on)",
    )
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    torch.set_num_threads(args.threads)
    if args.child:
        _configure(args.size, args.tokens[0] if args.tokens else None, args.layers)
        print(
            json.dumps(
                measure(args.child, args.size, args.steps, device, dtype, args.checkpointing)
            )
        )
        return
    sweep = args.tokens or (sorted(CPU_LATENTS) if args.size == "cpu" else [None])
    for tokens in sweep:
        args.tokens_now = tokens if tokens is not None else ""
        _report(args, device, dtype)


if __name__ == "__main__":
    main()
