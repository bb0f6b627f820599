"""Training-cache loading (pairs, hashes, latents, embeddings): peak memory at several dataset
sizes, its growth per video, and the time to check an unchanged cache.

One dataset folder per size, as ``dsr train`` reads it (a ``samples`` config of small noise mp4s
with its metadata columns, so the mp4 bytes do not compress away, and a ``pairs`` config: one
prompt per ``--per-prompt`` videos, half winners, half losers), the smaller ones holding the first
rows of the larger, and a tiny random Wan are written once by a separate process. Then each code
tree (``--tree PATH``, or ``--ref COMMIT`` for a commit of this repository, extracted with ``git
archive``; default: this checkout) runs ``load_pair_set`` and ``precompute`` in its own process, the
trees interleaved: a cold run (every latent and embedding encoded) and a warm run (nothing to
encode, the remembered hashes are used).

Memory is the process's peak RSS (``VmHWM``, reset after the heavy imports through
``/proc/self/clear_refs``) minus its RSS after the imports. ``ru_maxrss`` is not used: Linux carries
it over ``execve``, so a child reports at least the RSS of the process that started it. The growth
per video is the least-squares slope of the peak over the sizes. Times are the process CPU time
(all threads) and the wall time.

    python benchmarks/bench_cache.py --videos 300 3000 --ref 04591c0
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Stored videos: 9 noise frames of 64×96 (≈ 47 kB mp4s, so that retained bytes would show).
FRAMES, HEIGHT, WIDTH = 9, 64, 96
#: What the VAE encodes: the first frame downscaled to 16×16 (the encoder's cost stays small;
#: decoding still reads and decodes every frame).
TRAIN_FRAMES, TRAIN_SIZE = 1, 16
#: Rows per parquet row group: a reader holds one group's video column at once, so it is fixed to
#: keep it out of the size comparison (datasets writes groups of at most ~100 MB).
ROW_GROUP = 50
#: Rows per parquet file, at every size (sizes that are multiples of it have no shorter last file),
#: so that a reader holding a whole file (pyarrow's default pre-buffering did) holds the same at
#: every size.
SHARD = 100
#: What the Wan generator records per sample, for a realistic metadata column.
SETTINGS = {
    "generator": "wan",
    "model": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
    "num_frames": 81,
    "height": 480,
    "width": 832,
    "num_inference_steps": 50,
    "guidance_scale": 5.0,
    "negative_prompt": "Bright tones, overexposed, static, blurred details, subtitles",
    "max_sequence_length": 16,
}


# -- the datasets (written by a child process, so that this one stays small) ----------------------
def make_datasets(work: Path, sizes: list[int], per_prompt: int) -> None:
    """``work/n<N>/ds`` for each size N (the first N of max(sizes) videos) and ``work/wan``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dsr.generation.tiny import save_tiny_wan
    from dsr.media import encode_video

    rng = np.random.default_rng(0)
    for start in range(0, max(sizes), SHARD):
        ids = [f"s{i:06d}" for i in range(start, min(start + SHARD, max(sizes)))]
        videos = [
            encode_video(rng.integers(0, 256, (FRAMES, HEIGHT, WIDTH, 3), np.uint8), 8) for _ in ids
        ]
        for n in sizes:
            rows = [i for i, sid in enumerate(ids) if int(sid[1:]) < n]
            if rows:
                path = work / f"n{n}" / "ds" / "samples" / f"train-{start // SHARD:05d}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(
                    pa.table(_samples_columns([ids[i] for i in rows], [videos[i] for i in rows])),
                    path,
                    row_group_size=ROW_GROUP,
                )
    for n in sizes:
        groups = [list(range(i, min(i + per_prompt, n))) for i in range(0, n, per_prompt)]
        half = per_prompt // 2
        pairs = {
            "prompt_id": [f"p{g[0] // per_prompt:05d}" for g in groups],
            "prompt": [f"prompt number {g[0] // per_prompt}" for g in groups],
            "chosen_ids": [[f"s{i:06d}" for i in g[:half]] for g in groups],
            "rejected_ids": [[f"s{i:06d}" for i in g[half:]] for g in groups],
            "tau": [0.5] * len(groups),
        }
        path = work / f"n{n}" / "ds" / "pairs" / "train-00000.parquet"
        path.parent.mkdir(parents=True)
        pq.write_table(pa.table(pairs), path)
        record = {"format_version": 2, "configs": {"samples": {}, "pairs": {}}}
        (path.parents[1] / "dsr_build.json").write_text(json.dumps(record))
    save_tiny_wan(work / "wan", seed=0)


def _samples_columns(ids: list[str], videos: list[bytes]) -> dict[str, list]:
    prompt = [f"p{int(s[1:]) // 10:05d}" for s in ids]
    return {
        "sample_id": ids,
        "prompt_id": prompt,
        "split": ["train"] * len(ids),
        "prompt": [f"prompt number {int(p[1:])}" for p in prompt],
        "dsr_type": ["left_of"] * len(ids),
        "seed": list(range(len(ids))),
        "valid": [True] * len(ids),
        "dsr_score": [0.25 + (int(s[1:]) % 10) / 20 for s in ids],
        "generator_settings": [json.dumps({**SETTINGS, "seed": int(s[1:])}) for s in ids],
        "video": [{"bytes": v, "path": None} for v in videos],
    }


# -- one measured run (in a child process) -----------------------------------------------------
def child(ds: Path, wan: Path, cache: Path, per_prompt: int) -> dict[str, float]:
    """Load the pairs and precompute the cache in this process: peak RSS above the post-import
    baseline, CPU and wall seconds, entries encoded."""
    import diffusers  # noqa: F401  (the heavy imports come before the memory baseline)
    import polars  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import safetensors.torch  # noqa: F401
    import torch
    from diffusers import AutoencoderKLWan, WanPipeline  # noqa: F401

    import dsr.media  # noqa: F401
    from dsr.builders.dataset_source import DatasetSource
    from dsr.training.cache import precompute
    from dsr.training.config import SpatialAlignConfig
    from dsr.training.data import load_pair_set

    torch.set_num_threads(1)
    config = SpatialAlignConfig(
        output_dir=str(cache.parent / "out"),
        dataset=str(ds),
        base_model=str(wan),
        cache_dir=str(cache),
        train_num_frames=TRAIN_FRAMES,
        train_height=TRAIN_SIZE,
        train_width=TRAIN_SIZE,
        max_sequence_length=16,
        report_to="none",
    )
    baseline = _reset_peak()
    cpu, wall = time.process_time(), time.perf_counter()
    source = DatasetSource(ds)
    index = precompute(config, load_pair_set(source), source, show_progress=False)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = _status_kib("VmHWM") * 1024 - baseline
    return {"peak_mib": peak / 2**20, "cpu_s": cpu, "wall_s": wall, **index.computed}


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise SystemExit(f"/proc/self/status has no {field}: this benchmark needs Linux")


def _reset_peak() -> int:
    """Set the peak RSS to the current RSS (Linux ≥ 4.0) and return the current RSS in bytes."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError as exc:
        raise SystemExit(f"cannot reset the peak RSS ({exc}): needs Linux ≥ 4.0") from None
    return _status_kib("VmRSS") * 1024


# -- driver --------------------------------------------------------------------------------------
def _spawn(tree: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    out = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise SystemExit(f"{tree}: {(out.stderr.strip().splitlines() or ['failed'])[-1]}")
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


def _extract(ref: str, into: Path) -> Path:
    """The ``dsr`` package of commit ``ref`` of this repository, in ``into``."""
    repo = Path(__file__).resolve().parents[1]
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", ref, "dsr"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _datasets(tree: Path, work: Path, sizes: list[int], per_prompt: int) -> None:
    """The datasets of ``sizes`` in ``work`` (kept from an earlier run with the same settings)."""
    stamp = work / "datasets.json"
    want = {
        "sizes": sizes,
        "per_prompt": per_prompt,
        "video": [FRAMES, HEIGHT, WIDTH],
        "shard": SHARD,
    }
    if stamp.exists() and json.loads(stamp.read_text()) == want:
        return
    for old in ("wan", *(f"n{n}" for n in sizes)):
        shutil.rmtree(work / old, ignore_errors=True)
    t0 = time.perf_counter()
    _spawn(tree, "--make", str(work), "--videos", *map(str, sizes), "--per-prompt", str(per_prompt))
    stamp.write_text(json.dumps(want))
    print(f"datasets of {sizes} videos written in {time.perf_counter() - t0:.0f} s\n")


def _slope(points: list[tuple[int, float]]) -> float:
    """Least-squares MiB per video of (videos, MiB) points."""
    mx = sum(n for n, _ in points) / len(points)
    my = sum(m for _, m in points) / len(points)
    var = sum((n - mx) ** 2 for n, _ in points)
    return sum((n - mx) * (m - my) for n, m in points) / var if var else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, nargs="+", default=[300, 1500, 3000])
    parser.add_argument("--per-prompt", type=int, default=10)
    parser.add_argument("--tree", action="append", default=[], help="code tree (repeatable)")
    parser.add_argument("--ref", action="append", default=[], help="commit to compare (repeatable)")
    parser.add_argument("--work", help="folder keeping the datasets between runs (default: temp)")
    parser.add_argument("--make", nargs=1, help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        make_datasets(Path(args.make[0]), sorted(set(args.videos)), args.per_prompt)
        return
    if args.child:
        ds, wan, cache = (Path(p) for p in args.child)
        print(json.dumps(child(ds, wan, cache, args.per_prompt)))
        return
    here = Path(__file__).resolve().parents[1]
    sizes = sorted(set(args.videos))
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        work = Path(args.work or tmp)
        trees = {str(Path(t)): Path(t).resolve() for t in args.tree}
        trees |= {ref: _extract(ref, Path(tmp) / "trees" / ref) for ref in args.ref}
        if not args.tree:
            trees = {"this checkout": here, **trees}
        _datasets(here, work, sizes, args.per_prompt)
        print(f"{'videos':>6}  {'tree':20s} {'run':5s} {'peak RSS-base':>13} {'CPU s':>7} "
              f"{'wall s':>7} {'latents encoded':>15}")  # fmt: skip
        peaks: dict[tuple[str, str], list[tuple[int, float]]] = {}
        for n in sizes:
            ds = work / f"n{n}" / "ds"
            for kind in ("cold", "warm"):
                for i, (name, tree) in enumerate(trees.items()):
                    cache = work / f"n{n}" / f"cache-{i}"
                    if kind == "cold":
                        shutil.rmtree(cache, ignore_errors=True)
                    argv = ("--child", str(ds), str(work / "wan"), str(cache))
                    r = json.loads(_spawn(tree, *argv, "--per-prompt", str(args.per_prompt)))
                    peaks.setdefault((name, kind), []).append((n, r["peak_mib"]))
                    print(
                        f"{n:6d}  {name[-20:]:20s} {kind:5s} {r['peak_mib']:9.1f} MiB "
                        f"{r['cpu_s']:7.1f} {r['wall_s']:7.1f} {r['latents_computed']:15.0f}",
                        flush=True,
                    )
        print("\ngrowth of the peak with the dataset size (least squares over the sizes)")
        for (name, kind), points in peaks.items():
            print(f"  {name[-20:]:20s} {kind:5s} {_slope(points) * 2**20 / 1024:8.2f} KiB/video")


if __name__ == "__main__":
    main()
