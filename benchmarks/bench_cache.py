"""Training-cache precomputation: peak memory at two dataset sizes, and the time to check an
unchanged cache.

A dataset folder of N small synthetic videos (random noise, so that the mp4 bytes do not
compress away; one prompt per ``--per-prompt`` videos, half winners, half losers) and a tiny random
Wan are written once per size; then each code tree given (``--tree``, default: this checkout, and
e.g. ``--tree /work/main`` for the code before a change) precomputes the cache in its own process:
a cold run (every latent and embedding encoded) and a warm run (nothing to encode). Memory is
the peak RSS minus the RSS after the imports, which the load of a shared machine does not change;
times are the process CPU time (all threads) and the wall time.

    python benchmarks/bench_cache.py --videos 300 1500 --tree . --tree /work/main
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FRAMES, HEIGHT, WIDTH = 9, 64, 96
#: Rows per parquet row group: a reader holds one group's video column at once, so it is fixed to
#: keep it out of the size comparison (datasets writes groups of at most ~100 MB).
ROW_GROUP = 50


def make_dataset(root: Path, n_videos: int, per_prompt: int) -> None:
    """``root/ds``: a ``samples`` config of ``n_videos`` noise mp4s; ``root/pairs.json``: the
    pair set; ``root/wan``: a tiny random Wan."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dsr.generation.tiny import save_tiny_wan
    from dsr.media import encode_video

    rng = np.random.default_rng(0)
    ids = [f"s{i:05d}" for i in range(n_videos)]
    (root / "ds" / "samples").mkdir(parents=True)
    for shard in range(0, n_videos, 500):
        rows = ids[shard : shard + 500]
        videos = [
            {"bytes": encode_video(rng.integers(0, 256, (FRAMES, HEIGHT, WIDTH, 3), np.uint8), 8)}
            for _ in rows
        ]
        table = pa.table({"sample_id": rows, "video": videos})
        path = root / "ds" / "samples" / f"train-{shard // 500:05d}-of-x.parquet"
        pq.write_table(table, path, row_group_size=ROW_GROUP)
    prompts = [ids[i : i + per_prompt] for i in range(0, n_videos, per_prompt)]
    (root / "pairs.json").write_text(json.dumps(prompts))
    save_tiny_wan(root / "wan", seed=0)


def child(root: Path, cache: Path) -> dict[str, float]:
    """One precomputation in this process: peak RSS above the post-import baseline, CPU and wall
    seconds, entries encoded."""
    import diffusers  # noqa: F401  (the heavy imports come before the memory baseline)
    import pyarrow.parquet  # noqa: F401
    import safetensors.torch  # noqa: F401
    import torch
    from diffusers import AutoencoderKLWan, WanPipeline  # noqa: F401

    from dsr.builders.dataset_source import DatasetSource
    from dsr.training.cache import precompute
    from dsr.training.config import SpatialAlignConfig
    from dsr.training.data import PairSet, PromptPairs

    torch.set_num_threads(1)
    groups = json.loads((root / "pairs.json").read_text())
    half = len(groups[0]) // 2
    prompts = tuple(
        PromptPairs(f"p{i}", f"prompt number {i}", tuple(g[:half]), tuple(g[half:]))
        for i, g in enumerate(groups)
    )
    samples = {s: {"generator_settings": "{}"} for g in groups for s in g}
    config = SpatialAlignConfig(
        output_dir=str(root / "out"),
        dataset=str(root / "ds"),
        base_model=str(root / "wan"),
        cache_dir=str(cache),
        train_num_frames=FRAMES,
        max_sequence_length=16,
        report_to="none",
    )
    baseline = _rss_now()
    cpu, wall = time.process_time(), time.perf_counter()
    index = precompute(config, PairSet(prompts, samples), DatasetSource(root / "ds"))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - baseline
    return {"peak_mib": peak / 2**20, "cpu_s": cpu, "wall_s": wall, **index.computed}


def _rss_now() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def run(tree: Path, root: Path, cache: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    cmd = [sys.executable, __file__, "--child", str(root), str(cache)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"{tree}: {out.stderr.strip().splitlines()[-1]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, nargs="+", default=[300, 1500])
    parser.add_argument("--per-prompt", type=int, default=10)
    parser.add_argument("--tree", action="append", help="code tree to measure (repeatable)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]))))
        return
    trees = [Path(t).resolve() for t in (args.tree or ["."])]
    print("videos  tree                 run   peak RSS-base  CPU s   wall s  latents encoded")
    for n in args.videos:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            make_dataset(root, n, args.per_prompt)
            for kind in ("cold", "warm"):
                for i, tree in enumerate(trees):
                    r = run(tree, root, root / f"cache-{i}")
                    print(
                        f"{n:6d}  {str(tree)[-20:]:20s} {kind:5s} {r['peak_mib']:10.1f} MiB "
                        f"{r['cpu_s']:7.1f} {r['wall_s']:7.1f}  {r['latents_computed']:6.0f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
