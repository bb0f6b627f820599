"""Throughput of the model metrics of ``dsr eval`` (ID consistency + CLIP-IQA, the authors'
variants) against the authors' ``calc_metric.py``, measured in one process on the same videos.

A script, not a test: ``python benchmarks/bench_eval.py [--videos 4] [--frames 81] [--full-size]
[--device cuda]``. Random videos of 480×832 with a moving animal box and a key frame inside the
video. The authors' side does what ``calc_metric.py`` does, per video: the frames as one float
tensor / 255; the animal crops as tensor slices in the tracker's order (key frame, key+1 … last,
key−1 … 0) through torchvision's tensor ``Resize(518, bicubic, antialias)`` → ``CenterCrop`` →
``Normalize`` on the CPU, stacked and embedded by ONE DINOv2 call; CLIP-IQA by torchmetrics'
``CLIPImageQualityAssessment(data_range=1.0, prompts=("natural", "quality"))`` called once on the
video's whole frames (its ``forward`` runs the model twice: once for the running state, once for
the returned batch value). Ours: the ``dsr eval`` metric classes over groups of videos, crops
resized on the device, frames batched across videos. Both sides use the same models: a Hugging
Face DINOv2 (the authors load the same ViT-B/14 through torch.hub) and piq's CLIP ResNet-50 (the
model torchmetrics' ``clip_iqa`` loads; its download and tokenizer replaced by the weights file and
the anchor token ids). Tiny random models by default (the CPU case); ``--full-size`` builds
ViT-B/14 DINOv2 and the RN50 CLIP with random weights (the real sizes, for a GPU). Needs piq and
torchmetrics (the dev extra). Prints videos/s of both, the ratio, and the largest difference of
the values (both must agree).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

KEY_FRAME = 10


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


def authors_loop(
    dino_dir: Path, clip_file: Path, data: list, crop: int, device: str
) -> tuple[list[float], list[float]]:
    """calc_metric.py's per-video loop."""
    import torch
    import torch.nn.functional as Func
    import torchvision.transforms as Tran
    from transformers import AutoModel

    dino = AutoModel.from_pretrained(dino_dir).to(device).eval()
    clipiqa = _torchmetrics_clip_iqa(clip_file, device)
    transform = Tran.Compose(
        [
            Tran.Resize(crop, interpolation=Tran.InterpolationMode.BICUBIC, antialias=True),
            Tran.CenterCrop(crop),
            Tran.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
        ]
    )
    ids, iqa = [], []
    for v, animal, _ in data:
        frames = [f for f in torch.from_numpy(v).permute(0, 3, 1, 2).float() / 255.0]
        score = clipiqa(torch.stack(frames).to(device))
        iqa.append(float(score["natural"].mean()))
        n = len(frames)
        batch = []
        for f_idx in [*range(KEY_FRAME, n), *range(KEY_FRAME - 1, -1, -1)]:
            a_l, a_t, a_r, a_b = animal[f_idx].astype(int)
            batch.append(transform(frames[f_idx][:, a_t:a_b, a_l:a_r]))
        with torch.no_grad():
            feat = Func.normalize(dino(pixel_values=torch.stack(batch).to(device)).pooler_output)
        to_ref = (feat[1:] @ feat[0:1].T).squeeze(1)
        to_pre = (feat[:-1] * feat[1:]).sum(dim=1)
        ids.append(float(((to_ref + to_pre) / 2).mean()))
    return ids, iqa


def ours(
    dino_dir: Path, clip_file: Path, data: list, crop: int, device: str, batch: int, group: int
) -> tuple[list[float], list[float]]:
    from dsr.evaluation.config import EvalConfig
    from dsr.evaluation.video_metrics import ClipIQAMetric, IdConsistencyMetric

    config = EvalConfig(
        dataset="-",
        out="-",
        dino=str(dino_dir),
        clip_iqa_weights=str(clip_file),
        id_crop_size=crop,
        batch_size=batch,
    )
    id_metric, iqa_metric = IdConsistencyMetric(config, device), ClipIQAMetric(config, device)
    ids, iqa = [], []
    for start in range(0, len(data), group):
        chunk = data[start : start + group]
        rows = [
            {"valid": True, "key_frame": KEY_FRAME, "animal_boxes": a, "object_boxes": o}
            for _, a, o in chunk
        ]
        frames = [v for v, _, _ in chunk]
        ids += [r["id_consistency"] for r in id_metric.values(rows, frames)]
        iqa += [r["clip_iqa_natural"] for r in iqa_metric.values(rows, frames)]
    return ids, iqa


def _timed(fn, *args):  # type: ignore[no-untyped-def]
    """(result, wall seconds, CPU seconds of this process: the fair measure on a busy CPU)."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    import torch

    from dsr.evaluation.tiny import save_tiny_dinov2, save_tiny_piq_clip

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--frames", type=int, default=81, help="frames per video (>= 20)")
    parser.add_argument(
        "--full-size", action="store_true", help="ViT-B/14 DINOv2 and RN50 CLIP, random weights"
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--videos-per-batch", type=int, default=4)
    args = parser.parse_args()
    crop = 518
    with tempfile.TemporaryDirectory() as tmp:
        dino = save_tiny_dinov2(Path(tmp) / "dino", full_size=args.full_size)
        clip = save_tiny_piq_clip(Path(tmp) / "RN50.pt", full_size=args.full_size)
        data = videos(args.videos, frames=args.frames)
        run = (crop, args.device, args.batch_size, args.videos_per_batch)
        ours(dino, clip, data[:1], *run)  # warm-up of both sides
        authors_loop(dino, clip, data[:1], crop, args.device)
        (ids_b, iqa_b), t_ours, cpu_ours = _timed(ours, dino, clip, data, *run)
        (ids_a, iqa_a), t_loop, cpu_loop = _timed(authors_loop, dino, clip, data, crop, args.device)
    size = "ViT-B/14 + RN50 (random weights)" if args.full_size else "tiny random"
    print(
        f"{args.videos} videos of {args.frames} frames at 480x832, {size} models, {args.device}, "
        f"torch threads {torch.get_num_threads()}"
    )
    for name, wall, cpu in (
        ("authors' calc_metric.py loop", t_loop, cpu_loop),
        ("dsr eval batched", t_ours, cpu_ours),
    ):
        print(f"{name:29s} {args.videos / wall:.3f} videos/s ({wall:.1f} s wall, {cpu:.1f} s CPU)")
    print(f"speed-up: {t_loop / t_ours:.2f}x wall, {cpu_loop / cpu_ours:.2f}x CPU time")
    print(
        f"max |difference|: ID consistency {np.max(np.abs(np.subtract(ids_a, ids_b))):.2e}, "
        f"CLIP-IQA {np.max(np.abs(np.subtract(iqa_a, iqa_b))):.2e}"
    )


if __name__ == "__main__":
    main()
