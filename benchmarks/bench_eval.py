"""Throughput of the model metrics of ``dsr eval``: batched ID consistency + CLIP-IQA against the
authors' per-video loop, measured in the same run on the same videos.

A script, not a test: ``python benchmarks/bench_eval.py [--videos 4] [--full-size] [--device
cuda]``. Random 81-frame videos of 480×832 with a moving animal box. The authors' loop, per video:
one DINOv2 call per crop (PIL crop → torchvision Resize(518, bicubic, antialias) → CenterCrop →
Normalize) and the video's CLIP-IQA frames through ``CLIPProcessor`` and the model as one call per
video. Ours: the ``dsr eval`` metric classes over groups of videos, crops and frames batched. Tiny
random DINOv2/CLIP by default (the CPU case); ``--full-size`` builds ViT-B/14 DINOv2 and ViT-B/16
CLIP with random weights (the real sizes, for a GPU). Prints videos/s of both, the ratio, and the
largest difference of the values (both paths must agree).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def videos(
    n: int, frames: int = 81, height: int = 480, width: int = 832, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        v = rng.integers(0, 256, size=(frames, height, width, 3), dtype=np.uint8)
        xs = np.linspace(50, width - 250, frames)
        animal = np.stack([xs, np.full(frames, 100.0), xs + 180, np.full(frames, 260.0)], axis=1)
        obj = np.tile([300.0, 250.0, 500.0, 450.0], (frames, 1))
        out.append((v, animal, obj))
    return out


def authors_loop(
    dino_dir: Path, clip_dir: Path, data: list, crop: int, device: str
) -> tuple[list[float], list[float]]:
    import torch
    from PIL import Image
    from torchvision import transforms as T
    from transformers import AutoModel, CLIPModel, CLIPProcessor

    dino = AutoModel.from_pretrained(dino_dir).to(device).eval()
    clip, proc = (
        CLIPModel.from_pretrained(clip_dir).to(device).eval(),
        CLIPProcessor.from_pretrained(clip_dir),
    )
    tf = T.Compose(
        [
            T.Resize(crop, interpolation=T.InterpolationMode.BICUBIC, antialias=True),
            T.CenterCrop(crop),
            T.ToTensor(),
            T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
        ]
    )
    tokens = proc.tokenizer(
        ["Natural photo.", "Synthetic photo."], padding=True, return_tensors="pt"
    ).to(device)
    ids, iqa = [], []
    with torch.no_grad():
        anchors = clip.get_text_features(**tokens)
        anchors = getattr(anchors, "pooler_output", anchors)
        anchors = anchors / anchors.norm(dim=-1, keepdim=True)
        for v, animal, _ in data:
            feats = []
            for t in range(len(v)):  # one DINOv2 call per crop
                x1, y1, x2, y2 = animal[t]
                x = tf(Image.fromarray(v[t]).crop((x1, y1, x2, y2)))[None].to(device)
                f = dino(pixel_values=x).pooler_output[0]
                feats.append(f / f.norm())
            ids.append(
                float(
                    np.mean(
                        [
                            (float(feats[k] @ feats[0]) + float(feats[k] @ feats[k - 1])) / 2
                            for k in range(1, len(feats))
                        ]
                    )
                )
            )
            pixels = proc(images=list(v), return_tensors="pt")["pixel_values"].to(
                device
            )  # one call per video
            img = clip.get_image_features(pixel_values=pixels)
            img = getattr(img, "pooler_output", img)
            img = img / img.norm(dim=-1, keepdim=True)
            iqa.append(float((100 * img @ anchors.t()).softmax(-1)[:, 0].mean()))
    return ids, iqa


def ours(
    dino_dir: Path, clip_dir: Path, data: list, crop: int, device: str, batch: int, group: int
) -> tuple[list[float], list[float]]:
    from dsr.evaluation.config import EvalConfig
    from dsr.evaluation.video_metrics import ClipIQAMetric, IdConsistencyMetric

    config = EvalConfig(
        dataset="-",
        out="-",
        dino=str(dino_dir),
        clip=str(clip_dir),
        id_crop_size=crop,
        clip_anchors=("natural",),
        batch_size=batch,
    )
    id_metric, iqa_metric = IdConsistencyMetric(config, device), ClipIQAMetric(config, device)
    ids, iqa = [], []
    for start in range(0, len(data), group):
        chunk = data[start : start + group]
        rows = [{"valid": True, "animal_boxes": a, "object_boxes": o} for _, a, o in chunk]
        frames = [v for v, _, _ in chunk]
        ids += [r["id_consistency"] for r in id_metric.values(rows, frames)]
        iqa += [r["clip_iqa_natural"] for r in iqa_metric.values(rows, frames)]
    return ids, iqa


def _timed(fn, *args):  # type: ignore[no-untyped-def]
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn(*args)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, time.perf_counter() - start


def main() -> None:
    import torch

    from dsr.evaluation.tiny import save_tiny_clip, save_tiny_dinov2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument(
        "--full-size", action="store_true", help="ViT-B DINOv2 and CLIP with random weights"
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--videos-per-batch", type=int, default=4)
    args = parser.parse_args()
    crop = 518
    with tempfile.TemporaryDirectory() as tmp:
        dino = save_tiny_dinov2(Path(tmp) / "dino", full_size=args.full_size)
        clip = save_tiny_clip(Path(tmp) / "clip", full_size=args.full_size)
        data = videos(args.videos)
        ours(
            dino, clip, data[:1], crop, args.device, args.batch_size, args.videos_per_batch
        )  # warm-up
        (ids_b, iqa_b), t_ours = _timed(
            ours, dino, clip, data, crop, args.device, args.batch_size, args.videos_per_batch
        )
        (ids_a, iqa_a), t_loop = _timed(authors_loop, dino, clip, data, crop, args.device)
    size = "ViT-B (random weights)" if args.full_size else "tiny random"
    print(
        f"{args.videos} videos of 81 frames at 480x832, {size} models, {args.device}, torch "
        f"threads {torch.get_num_threads()}"
    )
    print(f"authors' per-video loop: {args.videos / t_loop:.3f} videos/s ({t_loop:.1f} s)")
    print(f"dsr eval batched:        {args.videos / t_ours:.3f} videos/s ({t_ours:.1f} s)")
    print(f"speed-up: {t_loop / t_ours:.2f}x")
    print(
        f"max |difference|: ID consistency {np.max(np.abs(np.subtract(ids_a, ids_b))):.2e}, "
        f"CLIP-IQA {np.max(np.abs(np.subtract(iqa_a, iqa_b))):.2e} (PIL vs tensor resizing "
        "differ slightly)"
    )


if __name__ == "__main__":
    main()
