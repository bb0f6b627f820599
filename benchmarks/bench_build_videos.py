"""Benchmark of ``build-videos`` outside the model: per-sample encode / write / score time for
81-frame 480×832 synthetic videos and its share of the total, and a 2-shard build (two processes)
against a 1-shard build of the same prompts.

    .venv/bin/python benchmarks/bench_build_videos.py [--prompts 4] [--seeds 4]
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dsr.builders.folder import ConfigRecord, DatasetFolder
from dsr.builders.samples import build_sample
from dsr.builders.work import ShardSpec, WorkArea
from dsr.generation.synthetic import SyntheticGenerator
from dsr.media import encode_video
from dsr.prompts import DSRPrompt, DSRType
from dsr.tracking.annotations import AnnotationTracker

FULL = {"num_frames": 81, "height": 480, "width": 832, "fps": 16}


def _records(n: int) -> list[dict]:
    out = []
    for i in range(n):
        t = list(DSRType)[i % 6]
        p = DSRPrompt("In a park", "fox", "stump", t.initial, t.final, "walks")
        out.append({**p.to_dict(), "prompt_id": f"p{i:03d}", "split": "train"})
    return out


def per_sample(n_prompts: int, n_seeds: int, root: Path) -> None:
    gen, tracker = SyntheticGenerator(**FULL), AnnotationTracker()
    work = WorkArea(DatasetFolder(root / "per-sample"))
    t_gen, t_row, t_write, t_enc = [], [], [], []
    for rec in _records(n_prompts):
        prompt = DSRPrompt.from_dict(rec)
        for seed in range(n_seeds):
            t0 = time.perf_counter()
            video = gen.generate_one(prompt, seed)
            t1 = time.perf_counter()
            row = build_sample(
                rec, seed, video, tracker, generator="synthetic"
            )  # encode + track + score
            t2 = time.perf_counter()
            work.commit("train", ShardSpec(), row)
            t3 = time.perf_counter()
            encode_video(video.frames, video.fps)  # timed alone to split encode from track + score
            t4 = time.perf_counter()
            (
                t_gen.append(t1 - t0),
                t_row.append(t2 - t1),
                t_write.append(t3 - t2),
                t_enc.append(t4 - t3),
            )
    gen_ms, row_ms, write_ms, enc_ms = (
        1000 * float(np.mean(x)) for x in (t_gen, t_row, t_write, t_enc)
    )
    outside = row_ms + write_ms
    print(f"per sample, {len(t_gen)} samples of 81×480×832 (mean):")
    print(f"  model call (synthetic render)      {gen_ms:8.1f} ms")
    print(f"  encode mp4 (x264 crf 18, medium)   {enc_ms:8.1f} ms")
    print(
        f"  track (annotations) + score + row  {max(row_ms - enc_ms, 0.0):8.1f} ms  (difference "
        "of two timings)"
    )
    print(f"  atomic write (mp4 + json)          {write_ms:8.1f} ms")
    print(
        f"  outside the model: {outside:.1f} ms = {100 * outside / (outside + gen_ms):.1f}% "
        "of this total;"
    )
    for label, secs in (("Wan2.1-1.3B, 50 steps, ~1 min/sample on one GPU (assumed)", 60.0),):
        print(f"  vs {label}: {100 * outside / 1000 / (secs + outside / 1000):.2f}%")


def _cli(prompts: Path, out: Path, seeds: int, extra: list[str]) -> list[str]:
    opts = [f"--generator-opt={k}={v}" for k, v in FULL.items()]
    return [
        sys.executable,
        "-c",
        "from dsr.cli import main; main()",
        "build-videos",
        "--prompts",
        str(prompts),
        "--out",
        str(out),
        "--generator",
        "synthetic",
        "--tracker",
        "annotations",
        "--samples-per-prompt",
        str(seeds),
        *opts,
        *extra,
    ]


def sharded(n_prompts: int, n_seeds: int, root: Path) -> None:
    import datasets

    prompts = root / "prompts"
    DatasetFolder(prompts).write_config(
        "prompts",
        {"train": datasets.Dataset.from_list(_records(n_prompts))},
        ConfigRecord(description="bench", columns={}),
    )
    t0 = time.perf_counter()
    subprocess.run(_cli(prompts, root / "one", n_seeds, []), check=True, capture_output=True)
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            _cli(prompts, root / "two", n_seeds, ["--num-shards", "2", "--shard-index", str(i)]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(2)
    ]
    codes = [p.wait() for p in procs]
    two = time.perf_counter() - t0
    assert codes == [0, 0], codes
    same = [same_value(pq_rows(root / "one"), pq_rows(root / "two"))]
    print(
        f"build of {n_prompts * n_seeds} samples (81×480×832), wall time incl. start-up and merge:"
    )
    print(
        f"  1 shard : {one:6.1f} s\n  2 shards: {two:6.1f} s  (speed-up {one / two:.2f}×; merged "
        f"result identical: {same[0]})"
    )


def pq_rows(root: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return [
        r
        for f in DatasetFolder(root).data_files("samples", "train")
        for r in pq.read_table(f).to_pylist()
    ]


def same_value(a: object, b: object) -> bool:
    """Equal values, where NaN equals NaN (plain ``==`` says two identical merges differ as soon as
    a row holds a NaN, because NaN != NaN)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        per_sample(args.prompts, args.seeds, Path(tmp))
        sharded(args.prompts, args.seeds, Path(tmp))


if __name__ == "__main__":
    main()
