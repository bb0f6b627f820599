"""One SpatialAlign training step: ours (``SpatialAlignTrainer.compute_loss`` itself: the
reference is the same network with the adapter disabled; winner and loser one after the other,
``ours-sequential``, the default, or in one batched forward, ``ours-batched``) against the
authors' (``train.py``: a deep copy of the base model taken before the LoRA is added as the
reference, the policy's winner and loser forwards, then the reference's two under ``no_grad``,
their loss written out as they write it).

Everything runs from ONE process, in this order:

1. **Peak memory**, for every length before any timed step. On the CPU each variant is built
   and runs ``--memory-steps`` steps in a child process forked after every
   heavy import: the child returns freed heap to the system (``malloc_trim``), has glibc map
   every block of 128 KiB or more on its own (so that a freed tensor leaves the resident set
   whatever its size, and the peak counts live memory), resets the kernel's
   high-water mark of its resident memory (``/proc/self/clear_refs``, value 5) and records its
   resident memory as the baseline; the figure is the high-water mark (``VmHWM``) minus that
   baseline, so it counts the variant's weights, reference copy, LoRA, optimizer state and step
   activations, and neither the libraries nor the other variants. (``ru_maxrss`` cannot be reset
   inside one process, and ``tracemalloc`` does not see torch's allocations.) On a GPU each variant
   is built in this process in turn: ``torch.cuda.max_memory_allocated`` minus the memory
   allocated before it was built.
2. **Same computation.** Every variant is built from the same seed with the same LoRA, whose B
   matrices are set to small random values (so that the policy differs from the reference and
   every LoRA weight gets a gradient), on the same latents; the run stops unless every variant's
   first step (in step 1) gives the authors' loss and LoRA gradients within tolerance.
3. **Time, interleaved.** ``--warmup`` untimed then ``--repeats`` timed rounds; each round runs
   one full step (forward, loss, backward, AdamW step) of every variant, the starting variant
   rotating from round to round, so that load from other jobs on the machine falls on all variants
   alike. On the CPU the clock is the process's CPU time on ``--threads`` torch threads
   (``torch.set_num_threads``); on a GPU wall time between ``torch.cuda.synchronize`` calls. Min
   and median are reported.

Activation checkpointing is on, as the authors' ``run_train.sh`` always runs
(``--no-checkpointing`` turns it off). The ``cpu`` size is the real Wan2.1-T2V-1.3B block (12
heads of 128, FFN 8960, text dim 4096) with ``--layers`` blocks (default 2) in float32, swept over
``--tokens`` latent tokens per sample (960 = 5×12×16 after Wan's 1×2×2 patches; the ranking of the
pair forwards flips with the length); ``real`` is the whole model at 81×480×832 (32,760 tokens) in
bf16 under bf16 autocast on a GPU, as both trainers run it; ``tiny`` checks the code in seconds.
The ZO share is the time of the ZO term (the loss with reg=zo minus reg=none, on the authors'
step's predictions, which are ours) over our default step's median time.

    python benchmarks/bench_training.py                          # 2 real Wan blocks, 960/3840/7680
    python benchmarks/bench_training.py --tokens 7680 --repeats 2
    python benchmarks/bench_training.py --size real              # Wan2.1-1.3B, 81×480×832 (GPU)
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import ctypes
import functools
import gc
import multiprocessing
import os
import pickle
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

#: Wan2.1-T2V-1.3B's transformer (the published transformer/config.json) and a tiny stand-in.
WAN_1_3B = {
    "num_attention_heads": 12,
    "attention_head_dim": 128,
    "ffn_dim": 8960,
    "text_dim": 4096,
    "freq_dim": 256,
}
TINY = {
    "num_attention_heads": 2,
    "attention_head_dim": 32,
    "ffn_dim": 128,
    "text_dim": 64,
    "freq_dim": 32,
}
#: Per size: transformer config, default block count, text length, default token sweep.
SIZES: dict[str, dict[str, Any]] = {
    "cpu": {"model": WAN_1_3B, "layers": 2, "text_len": 512, "tokens": (960, 3840, 7680)},
    "real": {"model": WAN_1_3B, "layers": 30, "text_len": 512, "tokens": (32760,)},
    "tiny": {"model": TINY, "layers": 2, "text_len": 16, "tokens": (960,)},
}
#: Latent shapes (C, F, H, W) by tokens per sample (F × H/2 × W/2).
LATENTS = {
    960: (16, 5, 24, 32),
    3840: (16, 5, 48, 64),
    7680: (16, 10, 48, 64),
    32760: (16, 21, 60, 104),
}
VARIANTS = ("ours-sequential", "ours-batched", "authors")
DEFAULT = "ours-sequential"  # --pair-forward's default in dsr train
SIGMA = 0.7


@dataclass
class Setup:
    """What one run of the benchmark measures at one sequence length."""

    size: str
    tokens: int
    layers: int
    device: str
    dtype: torch.dtype
    checkpointing: bool
    threads: int = 1


@dataclass
class Variant:
    """One variant's trainable state, as its trainer holds it across steps."""

    name: str
    model: Any
    reference: Any  # the authors' deep copy of the base model; None for ours
    params: list[torch.nn.Parameter]
    opt: torch.optim.Optimizer
    trainer: Any = None  # ours: the SpatialAlignTrainer whose compute_loss is the step


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


def _transformer(s: Setup) -> Any:
    from diffusers import WanTransformer3DModel

    torch.manual_seed(0)
    model = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        in_channels=16,
        out_channels=16,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        num_layers=s.layers,
        **SIZES[s.size]["model"],
    )
    if s.dtype != torch.float32:  # (a cast warns, even to float32)
        model = model.to(s.dtype)  # before the move: no float32 copy on the GPU
    model = model.to(s.device).requires_grad_(False)
    if s.checkpointing:
        model.enable_gradient_checkpointing()
    return model


def build(name: str, s: Setup) -> Variant:
    """A variant's model (and the authors' reference copy), LoRA and AdamW, from seed 0."""
    model = _transformer(s)
    reference = copy.deepcopy(model).eval() if name == "authors" else None
    params = add_lora(model)
    g = torch.Generator().manual_seed(2)
    for n, p in model.named_parameters():  # B = 0 would leave policy = reference, A's grad 0
        if "lora_B" in n:
            p.data.copy_(0.02 * torch.randn(p.shape, generator=g))
    trainer = None if name == "authors" else _trainer(model, name, s.device)
    return Variant(name, model, reference, params, torch.optim.AdamW(params, lr=1e-4), trainer)


def _trainer(transformer: Any, name: str, device: str) -> Any:
    """Our ``SpatialAlignTrainer`` around the adapted transformer, built after the weights (its
    constructor seeds the RNGs); only its ``compute_loss`` is called."""
    from dsr.training.config import SpatialAlignConfig
    from dsr.training.model import SpatialAlignModel
    from dsr.training.trainer import SpatialAlignTrainer

    config = SpatialAlignConfig(
        output_dir=_scratch().name,
        use_cpu=not device.startswith("cuda"),
        report_to="none",
        pair_forward=name.removeprefix("ours-"),
        log_pair_draws=False,
    )
    return SpatialAlignTrainer(model=SpatialAlignModel(transformer), args=config)


@functools.cache
def _scratch() -> tempfile.TemporaryDirectory[str]:
    """The trainers' ``output_dir``: their constructor creates it, nothing is written there;
    removed when the process exits."""
    return tempfile.TemporaryDirectory(prefix="bench_training-")


def batch(s: Setup) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    shape = (1, *LATENTS[s.tokens])
    t = {k: torch.randn(shape, generator=g) for k in ("x0_w", "x0_l", "n_w", "n_l")}
    text_dim = SIZES[s.size]["model"]["text_dim"]
    t["text"] = torch.randn(1, SIZES[s.size]["text_len"], text_dim, generator=g)
    return {k: v.to(s.device) for k, v in t.items()}


def _noisy(b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    xw = (1 - SIGMA) * b["x0_w"] + SIGMA * b["n_w"]
    xl = (1 - SIGMA) * b["x0_l"] + SIGMA * b["n_l"]
    return xw, xl, b["n_w"] - b["x0_w"], b["n_l"] - b["x0_l"]


def _run(model: Any, x: torch.Tensor, t: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    return model(
        hidden_states=x.to(model.dtype),
        timestep=t,
        encoder_hidden_states=text.to(model.dtype),
        return_dict=False,
    )[0]


def loss_ours(v: Variant, b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, tuple]:
    """Our trainer's step, as ``dsr train`` takes it: ``SpatialAlignTrainer.compute_loss`` on a
    batch of one pair draw (the reference with the adapter disabled, then the policy; our loss,
    its metrics recorded)."""
    device = b["x0_w"].device
    sigma = torch.full((1,), SIGMA, device=device)
    inputs = {
        "x0_chosen": b["x0_w"],
        "x0_rejected": b["x0_l"],
        "noise_chosen": b["n_w"],
        "noise_rejected": b["n_l"],
        "sigma": sigma,
        "timestep": 1000 * sigma,
        "prompt_embeds": b["text"],
    }
    loss, out = v.trainer.compute_loss(v.trainer.model, inputs, return_outputs=True)
    v.trainer._metrics.clear()  # what its log() would empty
    return loss, tuple(out["pred"].chunk(2))


def loss_authors(v: Variant, b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, tuple]:
    """The authors' ``training_step``: policy winner, policy loser, then the deep-copied
    reference's two under no_grad (one timestep for both); their loss as written there (per-sample
    MSEs, margin clipped to ±5, −log σ, ZO term 0.5·(MSE_w + MSE_l) weighted 0.5)."""
    mse = torch.nn.functional.mse_loss
    xw, xl, vw, vl = _noisy(b)
    t = torch.full((1,), 1000 * SIGMA, device=xw.device)
    pred_w, pred_l = _run(v.model, xw, t, b["text"]), _run(v.model, xl, t, b["text"])
    with torch.no_grad():
        ref_w, ref_l = _run(v.reference, xw, t, b["text"]), _run(v.reference, xl, t, b["text"])

    def err(p: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return mse(p.float(), target.float(), reduction="none").mean(dim=[1, 2, 3, 4])

    score_w = err(ref_w, vw) - err(pred_w, vw)
    score_l = err(ref_l, vl) - err(pred_l, vl)
    margin = torch.clip(score_w - score_l, min=-5.0, max=5.0)
    dpo = -torch.log(torch.sigmoid(margin)).mean()
    reg = 0.5 * (mse(pred_w.float(), ref_w.float()) + mse(pred_l.float(), ref_l.float()))
    return dpo + 0.5 * reg, (pred_w, pred_l, ref_w, ref_l, vw, vl)


def _autocast(s: Setup) -> contextlib.AbstractContextManager[Any]:
    """bf16 autocast on a GPU, as Lightning's precision="bf16" and our Trainer's --bf16 run."""
    if s.device.startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def step(v: Variant, b: dict[str, torch.Tensor], s: Setup) -> tuple[float, dict, tuple]:
    """One full training step; returns the loss, the LoRA gradients (copies, by parameter index)
    and the detached outputs."""
    with _autocast(s):
        loss, outs = (loss_authors if v.name == "authors" else loss_ours)(v, b)
    loss.backward()
    grads = {i: p.grad.detach().clone() for i, p in enumerate(v.params) if p.grad is not None}
    v.opt.step()
    v.opt.zero_grad(set_to_none=True)
    return float(loss.detach()), grads, tuple(o.detach() for o in outs)


def check_same_step(first: dict[str, tuple[float, dict]], s: Setup) -> None:
    """Every variant's first step (loss, LoRA gradients) matches the authors' within tolerance,
    or the run stops: the figures would compare different computations."""
    tol = 5e-2 if s.dtype == torch.bfloat16 else 1e-3
    base_loss, base_grads = first["authors"]
    scale = max((float(g.abs().max()) for g in base_grads.values()), default=0.0)
    if scale == 0:
        raise SystemExit("the authors' step gave no LoRA gradient: the check would prove nothing")
    for name, (loss, grads) in first.items():
        if abs(loss - base_loss) > tol * max(1.0, abs(base_loss)):
            raise SystemExit(f"{name}: loss {loss!r} differs from the authors' {base_loss!r}")
        if grads.keys() != base_grads.keys():
            raise SystemExit(f"{name}: other LoRA weights get gradients than the authors'")
        worst = max(float((grads[i] - g).abs().max()) for i, g in base_grads.items())
        if worst > tol * scale:
            raise SystemExit(f"{name}: LoRA gradients differ from the authors' by {worst:.3g}")


def _clock(s: Setup) -> float:
    if s.device.startswith("cuda"):
        torch.cuda.synchronize()
        return time.perf_counter()
    return time.process_time()


def time_interleaved(
    variants: list[Variant], b: dict[str, torch.Tensor], s: Setup, rounds: int
) -> tuple[dict[str, list[float]], tuple]:
    """Step times per variant over ``rounds`` rounds of one step each, the first variant rotating
    from round to round; also the authors' last outputs (predictions, references and targets: our
    step's are the same, checked)."""
    times: dict[str, list[float]] = {v.name: [] for v in variants}
    outs: tuple = ()
    for r in range(rounds):
        for v in variants[r % len(variants) :] + variants[: r % len(variants)]:
            start = _clock(s)
            _, _, o = step(v, b, s)
            times[v.name].append(_clock(s) - start)
            _progress(
                f"{s.tokens} tokens, round {r + 1}/{rounds}, {v.name}: {times[v.name][-1]:.2f} s"
            )
            outs = o if v.name == "authors" else outs
    return times, outs


def zo_seconds(outs: tuple, s: Setup, repeats: int = 5) -> float:
    """Time of the ZO term: our loss with reg=zo minus reg=none on fixed predictions."""
    from dsr.training.loss import dpo_zo_loss

    def timed(reg: str) -> float:
        start = _clock(s)
        for _ in range(repeats):
            dpo_zo_loss(*outs, reg=reg)
        return (_clock(s) - start) / repeats

    return max(0.0, timed("zo") - timed("none"))


# -- peak memory -------------------------------------------------------------------------------


def _memory_of(
    names: list[str], s: Setup, b: dict[str, torch.Tensor], steps: int
) -> list[tuple[int, tuple[float, dict]]]:
    """Bytes each variant needs above what was there before it was built (see the module doc),
    and its first step's loss and LoRA gradients; on the CPU the children run at once."""
    if not s.device.startswith("cuda"):
        children = [_fork(_steps, name, s, b, steps) for name in names]
        return [_collect(*child) for child in children]
    out = []
    for name in names:
        gc.collect()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        first = _steps(name, s, b, steps)
        gc.collect()
        out.append((torch.cuda.max_memory_allocated() - before, first))
    return out


def _steps(name: str, s: Setup, b: dict[str, torch.Tensor], steps: int) -> tuple[float, dict]:
    """Build a variant and run ``steps`` steps; the first step's loss and LoRA gradients."""
    torch.set_num_threads(s.threads)
    v = build(name, s)
    loss, grads, _ = step(v, b, s)
    for _ in range(steps - 1):
        step(v, b, s)
    return loss, grads


def peak_rss_in_fork(fn: Callable[..., Any], *args: Any) -> tuple[int, Any]:
    """Peak resident bytes that ``fn(*args)`` adds, and its result, run in a child forked from
    this process (Linux): the child frees what it can, resets its high-water mark to its resident
    memory now, takes that as the baseline, runs ``fn`` and reports ``VmHWM`` minus the baseline.
    The high-water mark is the child's own, so children may run at the same time. The parent must
    not have run a multi-threaded torch operation yet (OpenMP's threads do not survive a fork:
    the child would hang in its first parallel region)."""
    return _collect(*_fork(fn, *args))


def _fork(fn: Callable[..., Any], *args: Any) -> tuple[Any, Any]:
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args))
    proc.start()
    send.close()
    return proc, recv


def _collect(proc: Any, recv: Any) -> tuple[int, Any]:
    result = pickle.loads(recv.recv_bytes())
    proc.join()
    if isinstance(result, BaseException):
        raise result
    return result


def _child(conn: Any, fn: Callable[..., Any], args: tuple) -> None:
    # a session of its own: with the kernel's autogroup scheduling, children run at once would
    # otherwise share one CPU share
    os.setsid()
    try:
        gc.collect()
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6")
            libc.malloc_trim(0)
            # every block of 128 KiB or more mapped on its own and unmapped when freed: glibc's
            # threshold otherwise rises with each freed block (up to 32 MiB), and blocks below it
            # stay in the heap, so the peak would depend on the allocation pattern, not on what
            # is alive (M_MMAP_THRESHOLD = -3; setting it stops the rise)
            libc.mallopt(-3, 128 * 1024)
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # the high-water mark of resident memory := resident memory now
        baseline = _status_bytes("VmRSS")
        out = fn(*args)
        result: Any = (_status_bytes("VmHWM") - baseline, out)
    except BaseException as exc:  # sent back so that the parent fails with the child's reason
        result = exc
    # plain pickle: multiprocessing's would pass tensors as shared memory that dies with the child
    conn.send_bytes(pickle.dumps(result))
    conn.close()


def _status_bytes(field: str) -> int:
    with open("/proc/self/status") as fh:
        line = next(x for x in fh if x.startswith(field + ":"))
    return int(line.split()[1]) * 1024  # kB


# -- the report --------------------------------------------------------------------------------


def memory_and_check(s: Setup, args: argparse.Namespace) -> dict[str, int]:
    """Peak memory per variant, one child each; their first steps must be the same step."""
    b = batch(s)
    names = list(VARIANTS)
    runs = [
        _memory_of(names[i : i + args.memory_jobs], s, b, args.memory_steps)
        for i in range(0, len(names), args.memory_jobs)
    ]
    measured = dict(zip(names, [r for group in runs for r in group], strict=True))
    for name, (peak, _) in measured.items():
        _progress(f"{s.tokens} tokens, {name}: {peak / 2**20:,.0f} MiB")
    check_same_step({name: first for name, (_, first) in measured.items()}, s)
    return {name: peak for name, (peak, _) in measured.items()}


def timing(s: Setup, args: argparse.Namespace) -> dict:
    """Interleaved step times after ``--warmup`` untimed rounds, and the ZO term's time."""
    b = batch(s)
    variants = [build(name, s) for name in VARIANTS]
    times, outs = time_interleaved(variants, b, s, args.warmup + args.repeats)
    zo = zo_seconds(outs, s)
    del variants, outs
    gc.collect()
    return {"times": {k: v[args.warmup :] for k, v in times.items()}, "zo_s": zo}


def _row(name: str, r: dict) -> str:
    mem = r["memory"]
    cells = ["—"] * 3
    if r["times"]:
        med = {k: statistics.median(v) for k, v in r["times"].items()}
        cells = [f"{min(r['times'][name]):.2f}", f"{med[name]:.2f}"]
        cells.append(f"{med[name] / med['authors']:.2f}×")
    return (
        f"| {name} | {' | '.join(cells)} | {mem[name] / 2**20:,.0f} "
        f"| {mem[name] / mem['authors']:.2f}× |"
    )


def report(s: Setup, r: dict, args: argparse.Namespace) -> None:
    clock = "wall" if s.device.startswith("cuda") else f"CPU time on {args.threads} thread(s)"
    unit = "max allocated" if s.device.startswith("cuda") else "peak RSS above baseline"
    timed = "not timed (--repeats 0)"
    if r["times"]:
        zo = r["zo_s"] / statistics.median(r["times"][DEFAULT])
        timed = (
            f"step {clock}, {args.warmup} warm-up + {args.repeats} timed interleaved rounds, "
            f"ZO term {zo:.2%} of our default step"
        )
    print(
        f"\n{s.tokens:,} tokens/sample, {s.layers} Wan2.1-1.3B blocks ({args.size}), {s.dtype}, "
        f"checkpointing {'on' if s.checkpointing else 'off'}; memory over {args.memory_steps} "
        f"step(s); same loss and LoRA gradients checked; {timed}"
    )
    print(
        f"| variant | step min (s) | step median (s) | time vs authors | {unit} (MiB) | memory "
        "vs authors |"
    )
    print("|---|---|---|---|---|---|")
    for name in VARIANTS:
        print(_row(name, r))
    sys.stdout.flush()


def _machine(args: argparse.Namespace) -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        cpu = next(x.split(":", 1)[1].strip() for x in fh if x.startswith("model name"))
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return f"{cpu}, {gpu}; torch {torch.__version__}, {args.threads} torch thread(s)"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--size", choices=sorted(SIZES), default="cpu")
    p.add_argument(
        "--tokens",
        type=int,
        nargs="+",
        choices=sorted(LATENTS),
        help="latent tokens per sample (default: the size's sweep)",
    )
    p.add_argument("--layers", type=int, help="transformer blocks (default: the size's)")
    p.add_argument(
        "--repeats", type=int, default=3, help="interleaved timed rounds (0: memory only)"
    )
    p.add_argument("--warmup", type=int, default=1, help="interleaved untimed rounds first")
    p.add_argument("--memory-steps", type=int, default=1, help="steps per memory measurement")
    p.add_argument("--memory-jobs", type=int, default=1, help="memory children at once (CPU; 1-3)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (CPU time is timed)")
    p.add_argument(
        "--checkpointing",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="activation checkpointing (the authors always turn it on)",
    )
    return p


def _heavy_imports(device: str) -> None:
    """Import (and touch) every library a step uses, so that none of it counts as a step's
    memory: diffusers' and peft's classes load lazily, on first access, and a first Trainer
    imports and sets up what every later one shares (accelerate's state, ~90 MiB)."""
    from diffusers import WanTransformer3DModel  # noqa: F401
    from peft import LoraConfig  # noqa: F401

    import dsr.training.loss  # noqa: F401
    import dsr.training.model  # noqa: F401
    import dsr.training.options  # noqa: F401

    _trainer(torch.nn.Linear(1, 1), DEFAULT, device)


def main(argv: list[str] | None = None) -> dict[int, dict]:
    args = _parser().parse_args(argv)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_num_threads(1)  # until the memory children are forked (see peak_rss_in_fork)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    layers = args.layers or SIZES[args.size]["layers"]
    setups = [
        Setup(args.size, n, layers, device, dtype, args.checkpointing, args.threads)
        for n in args.tokens or SIZES[args.size]["tokens"]
    ]
    print(f"machine: {_machine(args)}\ncommand: python {' '.join(sys.argv)}", flush=True)
    _heavy_imports(device)
    memory = {s.tokens: memory_and_check(s, args) for s in setups}  # before any timed step
    torch.set_num_threads(args.threads)
    results = {}
    for s in setups:
        timed = timing(s, args) if args.repeats else {"times": {}, "zo_s": 0.0}
        results[s.tokens] = {"memory": memory[s.tokens], **timed}
        report(s, results[s.tokens], args)
    return results


def _progress(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
