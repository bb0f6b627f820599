"""Batched in-memory detection vs the reference pipeline's frame-at-a-time JPEG round trip.

Tiny random Grounding DINO (built here, saved and loaded through ``from_pretrained``), one
81-frame 480×832 clip. Reference way: write every frame as a JPEG, read each back with PIL and
detect one frame per forward pass. Ours: ``GroundingDetector`` on the in-memory frames in batches.

    .venv/bin/python benchmarks/bench_detection.py [--batch-size 8] [--repeats 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def reference_loop(detector, frames: np.ndarray, workdir: Path) -> int:
    """Write JPEGs, read them back, detect one frame at a time."""
    from PIL import Image

    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(workdir / f"{i:05d}.jpg", quality=95)
    n = 0
    for path in sorted(workdir.glob("*.jpg")):
        frame = np.asarray(Image.open(path).convert("RGB"))
        n += len(detector.detect(frame[None], "cat", "bench")[0])
    return n


def main() -> None:
    import torch

    from dsr.tracking.grounding import GroundingDetector
    from dsr.tracking.tiny import save_tiny_grounding_dino

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--frames", type=int, default=81)
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (args.frames, 480, 832, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        model = save_tiny_grounding_dino(Path(tmp) / "gd")
        batched = GroundingDetector(model=str(model), batch_size=args.batch_size, box_threshold=0.3)
        single = GroundingDetector(model=str(model), batch_size=1, box_threshold=0.3)
        batched.detect(frames[:2], "cat", "bench")  # load + warm up
        t_ref, t_ours = [], []
        for r in range(args.repeats):
            jpg = Path(tmp) / f"jpg{r}"
            jpg.mkdir()
            t0 = time.perf_counter()
            reference_loop(single, frames, jpg)
            t_ref.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            batched.detect(frames, "cat", "bench")
            t_ours.append(time.perf_counter() - t0)
    ref, ours = min(t_ref), min(t_ours)
    print(
        f"frames: {args.frames} × 480×832, tiny Grounding DINO, device {batched.device}, torch "
        f"threads {torch.get_num_threads()}"
    )
    print(
        f"frame-at-a-time + JPEG round trip: {ref:.2f} s ({1000 * ref / args.frames:.1f} ms/frame)"
    )
    print(
        f"batched in memory (batch {args.batch_size}):      {ours:.2f} s "
        f"({1000 * ours / args.frames:.1f} ms/frame)"
    )
    print(f"speed-up: {ref / ours:.2f}×")


if __name__ == "__main__":
    main()
