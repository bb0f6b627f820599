"""Throughput of the model metrics of ``dsr eval`` (ID consistency + CLIP-IQA, the authors'
variants) against the authors' ``calc_metric.py``, both in one process on the same frames.

A script, not a test: ``python benchmarks/bench_eval.py [--videos 1] [--frames 4] [--repeats 3]
[--threads 1] [--tiny] [--device cuda]``. Real model sizes by default, with random weights: DINOv2
ViT-B/14 at 518 px (transformers' ``Dinov2Model``) and the CLIP RN50 of torchmetrics' ``clip_iqa``
(piq's class, built from OpenAI's RN50 sizes and saved as the ``RN50.pt`` TorchScript archive);
random 480×832 videos with a moving animal box and the key frame inside the video. On a CPU keep
``--frames`` small (one ViT-B/14 crop at 518 px is ≈ 0.3 TFLOP, one RN50 frame at 480×832 ≈ 0.1):
below 20 frames the 20-crop rule of ID consistency is lowered to 2 for the timing only (the same
code runs either way). ``--tiny`` uses tiny random models (quick, but it times overhead, not the
models).

How the authors' side follows ``calc_metric.py`` (checked against their script, point by point):

1. per video, the frames become ONE float tensor / 255 (``read_video`` → ``permute`` → ``float() /
   255``), kept as a list of (3, H, W) frames; mp4 decoding itself is not timed on either side
   (both decode each video once for all metrics);
2. CLIP-IQA: the 81 frames stacked and given to torchmetrics'
   ``CLIPImageQualityAssessment(data_range=1.0, prompts=("natural", "quality"))`` (its default
   ``clip_iqa`` model: piq's CLIP RN50 on the whole 480×832 frame, no resize or crop); the metric
   has ``full_state_update = True``, so each call runs the image tower TWICE (once for the running
   state, once for the batch value), both under ``inference_mode``; only the model download and
   the tokenizer are replaced (by the weights file and the anchors' token ids);
3. ID consistency: the animal crop of every frame in the tracker's order (key frame, key+1 …
   last, key−1 … 0) as a slice of the float frame, each through torchvision's tensor
   ``Resize(518, bicubic, antialias=True)`` → ``CenterCrop(518)`` → ``Normalize`` (ImageNet) on
   the CPU, stacked, ONE DINOv2 call per video under ``no_grad``, ``F.normalize`` of the CLS
   feature, then mean of (f_k·f_1 + f_k·f_(k−1)) / 2 (their loop runs CLIP-IQA first, then the
   crops, as here);
4. the authors load DINOv2 through ``torch.hub`` (``facebookresearch/dinov2``, ``dinov2_vitb14``):
   that code is not installable here, so both sides use transformers' ``Dinov2Model`` of the same
   ViT-B/14 config; the hub model runs the same operations (a fused qkv ``Linear`` and
   ``scaled_dot_product_attention`` since 2025, no xFormers without a GPU), so the FLOPs and
   kernels are the same.

Ours: the ``dsr eval`` metric classes (loaded once), crops of all videos of a group batched, the
frames of all videos streamed through the RN50 once, the pooled-token shortcuts of
:mod:`dsr.evaluation.pooling` and channels-last convolutions.

Measured honestly: both sides in one process on a fixed thread count, ``--repeats`` rounds
interleaved (the side that goes first alternates), CPU seconds of this process (the fair measure on
a shared machine; wall seconds beside), min and median per metric and for both together; model
FLOPs of each side counted with ``torch.utils.flop_counter`` (attention through the math backend so
that it is counted), and the effective GFLOP/s: when both sides run their models at the same rate,
the speed-up is bounded by the ratio of their FLOPs. Prints the largest difference of the values
(both sides must agree).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

KEY_FRAME = 1


def videos(
    n: int, frames: int = 81, height: int = 480, width: int = 832, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Random frames, an animal box moving left to right, a fixed object box (integer boxes with
    the inclusive extent of masks)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        v = rng.integers(0, 256, size=(frames, height, width, 3), dtype=np.uint8)
        xs = np.round(np.linspace(50, width - 250, frames))
        animal = np.stack([xs, np.full(frames, 100.0), xs + 180, np.full(frames, 260.0)], axis=1)
        obj = np.tile([300.0, 250.0, 500.0, 450.0], (frames, 1))
        out.append((v, animal, obj))
    return out


class _Processor:
    """What torchmetrics asks of CLIPProcessor for the clip_iqa model: the anchors' token ids."""

    class tokenizer:  # noqa: N801 - the attribute torchmetrics reads
        model_max_length = 77

    def __call__(self, text: list[str]) -> dict[str, list[list[int]]]:
        from dsr.evaluation.clip_iqa import ANCHOR_TOKENS

        return {"input_ids": [list(ANCHOR_TOKENS[t]) for t in text]}


def _torchmetrics_clip_iqa(weights: Path, device: str) -> Any:
    """torchmetrics' CLIP-IQA as the authors build it, on the weights file (no download)."""
    import torchmetrics.multimodal.clip_iqa as tm

    from dsr.evaluation.clip_iqa import load_piq_clip

    loader = tm._get_clip_iqa_model_and_processor
    tm._get_clip_iqa_model_and_processor = lambda name: (load_piq_clip(str(weights)), _Processor())
    try:
        return tm.CLIPImageQualityAssessment(data_range=1.0, prompts=("natural", "quality")).to(
            device
        )
    finally:
        tm._get_clip_iqa_model_and_processor = loader


class Clock:
    """CPU and wall seconds per section, summed over calls."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        import torch

        sync = torch.cuda.synchronize if torch.cuda.is_available() else lambda: None
        sync()
        cpu, wall = time.process_time(), time.perf_counter()
        out = fn()
        sync()
        self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu
        self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - wall
        return out


class Authors:
    """calc_metric.py's per-video loop (the module docstring, points 1-4)."""

    def __init__(self, dino_dir: Path, clip_file: Path, device: str, crop: int = 518) -> None:
        import torchvision.transforms as Tran
        from transformers import AutoModel

        self.device = device
        self.dino = AutoModel.from_pretrained(dino_dir).to(device).eval()
        self.clipiqa = _torchmetrics_clip_iqa(clip_file, device)
        self.transform = Tran.Compose(
            [
                Tran.Resize(crop, interpolation=Tran.InterpolationMode.BICUBIC, antialias=True),
                Tran.CenterCrop(crop),
                Tran.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
            ]
        )

    def _id(self, frames: list, animal: np.ndarray) -> float:
        import torch
        import torch.nn.functional as Func

        batch = []
        for f_idx in [*range(KEY_FRAME, len(frames)), *range(KEY_FRAME - 1, -1, -1)]:
            a_l, a_t, a_r, a_b = animal[f_idx].astype(int)
            batch.append(self.transform(frames[f_idx][:, a_t:a_b, a_l:a_r]))
        with torch.no_grad():
            feat = self.dino(pixel_values=torch.stack(batch).to(self.device)).pooler_output
            feat = Func.normalize(feat, dim=1)
        to_ref = (feat[1:] @ feat[0:1].T).squeeze(1)
        to_pre = (feat[:-1] * feat[1:]).sum(dim=1)
        return float(((to_ref + to_pre) / 2).mean().item())

    def loop(self, data: list, clock: Clock) -> tuple[list[float], list[float]]:
        import torch

        ids, iqa = [], []
        for v, animal, _ in data:
            frames = clock.run(
                "frames",
                lambda v=v: [f for f in torch.from_numpy(v).permute(0, 3, 1, 2).float() / 255.0],
            )
            score = clock.run(
                "clip_iqa",
                lambda fr=frames: self.clipiqa(
                    torch.cat([f.unsqueeze(0).to(self.device) for f in fr])
                ),
            )
            iqa.append(float(score["natural"].mean()))
            ids.append(clock.run("id", lambda fr=frames, a=animal: self._id(fr, a)))
        return ids, iqa


class Ours:
    """The dsr eval metric classes over groups of videos."""

    def __init__(
        self, dino_dir: Path, clip_file: Path, device: str, batch: int, group: int
    ) -> None:
        from dsr.evaluation.config import EvalConfig
        from dsr.evaluation.video_metrics import ClipIQAMetric, IdConsistencyMetric

        config = EvalConfig(
            dataset="-",
            out="-",
            dino=str(dino_dir),
            clip_iqa_weights=str(clip_file),
            batch_size=batch,
        )
        self.id, self.iqa = IdConsistencyMetric(config, device), ClipIQAMetric(config, device)
        self.group = group

    def loop(self, data: list, clock: Clock) -> tuple[list[float], list[float]]:
        ids, iqa = [], []
        for start in range(0, len(data), self.group):
            chunk = data[start : start + self.group]
            rows = [
                {"valid": True, "key_frame": KEY_FRAME, "animal_boxes": a, "object_boxes": o}
                for _, a, o in chunk
            ]
            frames = [v for v, _, _ in chunk]
            iqa += [
                r["clip_iqa_natural"]
                for r in clock.run("clip_iqa", lambda r=rows, f=frames: self.iqa.values(r, f))
            ]
            ids += [
                r["id_consistency"]
                for r in clock.run("id", lambda r=rows, f=frames: self.id.values(r, f))
            ]
        return ids, iqa


def model_flops(
    dino_dir: Path, clip_file: Path, n_crops: int, n_frames: int
) -> dict[str, dict[str, float]]:
    """Model FLOPs per side and metric for ``n_crops`` crops and ``n_frames`` frames."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode
    from transformers import AutoModel

    from dsr.evaluation.clip_iqa import load_piq_clip
    from dsr.evaluation.pooling import dinov2_cls, piq_clip_image_features

    dino = AutoModel.from_pretrained(dino_dir).eval()
    clip = load_piq_clip(str(clip_file))
    crop, frame = torch.rand(1, 3, 518, 518), torch.rand(1, 3, 480, 832)

    def count(fn: Callable[[], Any]) -> float:
        with (
            torch.inference_mode(),
            sdpa_kernel(SDPBackend.MATH),
            FlopCounterMode(display=False) as c,
        ):
            fn()
        return float(c.get_total_flops())

    full_dino = count(lambda: dino(pixel_values=crop))
    full_clip = count(lambda: clip.encode_image(frame, pos_embedding=False))
    return {
        "authors": {"id": n_crops * full_dino, "clip_iqa": 2 * n_frames * full_clip},
        "ours": {
            "id": n_crops * count(lambda: dinov2_cls(dino, crop)),
            "clip_iqa": n_frames * count(lambda: piq_clip_image_features(clip, frame)),
        },
    }


def _summary(rounds: list[dict[str, float]], key: str) -> tuple[float, float]:
    values = [r[key] for r in rounds]
    return min(values), statistics.median(values)


def main() -> None:
    import torch

    import dsr.evaluation.video_metrics as video_metrics
    from dsr.evaluation.tiny import save_tiny_dinov2, save_tiny_piq_clip

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=1)
    parser.add_argument("--frames", type=int, default=4, help="frames per video (the paper: 81)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (fixed)")
    parser.add_argument("--tiny", action="store_true", help="tiny random models (overhead only)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--videos-per-batch", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.frames < video_metrics.AUTHORS_MIN_CROPS:  # timing only: the same code either way
        video_metrics.AUTHORS_MIN_CROPS = 2
    with tempfile.TemporaryDirectory() as tmp:
        dino = save_tiny_dinov2(Path(tmp) / "dino", full_size=not args.tiny)
        clip = save_tiny_piq_clip(Path(tmp) / "RN50.pt", full_size=not args.tiny)
        data = videos(args.videos, frames=args.frames)
        sides = {
            "authors": Authors(dino, clip, args.device),
            "ours": Ours(dino, clip, args.device, args.batch_size, args.videos_per_batch),
        }
        warm = videos(1, frames=KEY_FRAME + 1, seed=1)
        for side in sides.values():
            side.loop(warm, Clock())
        rounds: dict[str, list[dict[str, float]]] = {"authors": [], "ours": []}
        values: dict[str, tuple[list[float], list[float]]] = {}
        for r in range(args.repeats):
            for name in ("authors", "ours") if r % 2 == 0 else ("ours", "authors"):
                clock = Clock()
                values[name] = sides[name].loop(data, clock)
                frames = clock.cpu.get("frames", 0.0)
                rounds[name].append(
                    {
                        "id": clock.cpu["id"] + frames,
                        "clip_iqa": clock.cpu["clip_iqa"] + frames,
                        "both": sum(clock.cpu.values()),
                        "wall": sum(clock.wall.values()),
                    }
                )
        flops = model_flops(dino, clip, args.videos * args.frames, args.videos * args.frames)
    report(args, rounds, values, flops)


def report(
    args: argparse.Namespace,
    rounds: dict[str, list[dict[str, float]]],
    values: dict[str, tuple[list[float], list[float]]],
    flops: dict[str, dict[str, float]],
) -> None:
    import torch

    size = "tiny random" if args.tiny else "ViT-B/14 at 518 + RN50 at 480x832 (random weights)"
    print(
        f"{args.videos} video(s) x {args.frames} frames at 480x832, {size}, {args.device}, "
        f"{torch.get_num_threads()} thread(s), {args.repeats} interleaved rounds; CPU seconds "
        "min / median"
    )
    print(f"{'':10s} {'authors':>17s} {'ours':>17s} {'speed-up (min / median)':>26s}")
    for key in ("id", "clip_iqa", "both"):
        a, o = _summary(rounds["authors"], key), _summary(rounds["ours"], key)
        print(
            f"{key:10s} {a[0]:8.1f} / {a[1]:6.1f} {o[0]:8.1f} / {o[1]:6.1f} "
            f"{a[0] / o[0]:12.2f}x / {a[1] / o[1]:.2f}x"
        )
    wa, wo = _summary(rounds["authors"], "wall"), _summary(rounds["ours"], "wall")
    print(
        f"{'wall':10s} {wa[0]:8.1f} / {wa[1]:6.1f} {wo[0]:8.1f} / {wo[1]:6.1f} "
        f"{wa[1] / wo[1]:12.2f}x (median)"
    )
    for side in ("authors", "ours"):
        f = flops[side]
        med = {k: _summary(rounds[side], k)[1] for k in ("id", "clip_iqa")}
        rate = " ".join(
            f"{k} {f[k] / 1e12:.2f} TFLOP ({f[k] / 1e9 / med[k]:.0f} GFLOP/s)" for k in f
        )
        print(f"model FLOPs, {side}: {rate}")
    bound = {k: flops["authors"][k] / flops["ours"][k] for k in ("id", "clip_iqa")}
    total = sum(flops["authors"].values()) / sum(flops["ours"].values())
    print(
        f"FLOP ratio authors/ours (the speed-up at equal GFLOP/s): id {bound['id']:.2f}x, "
        f"clip_iqa {bound['clip_iqa']:.2f}x, both {total:.2f}x"
    )
    (ids_a, iqa_a), (ids_b, iqa_b) = values["authors"], values["ours"]
    print(
        f"max |difference|: ID consistency {np.max(np.abs(np.subtract(ids_a, ids_b))):.2e}, "
        f"CLIP-IQA {np.max(np.abs(np.subtract(iqa_a, iqa_b))):.2e}"
    )


if __name__ == "__main__":
    main()
