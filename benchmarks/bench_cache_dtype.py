"""Does a bfloat16 training cache change the loss beyond bf16 training noise? (tiny Wan, CPU)

The same videos and prompts are precomputed into a float32 and a bfloat16 cache. For each video
the per-sample flow-matching error e = mean((pred − v)²) (the quantity docs/method.md §6 builds the
DPO margin from) is computed at two noise levels with the same noise:

- A: float32 cache, float32 transformer (the reference);
- B: bfloat16 cache, float32 transformer (what the cache dtype changes);
- C: float32 cache, transformer under bf16 autocast (bf16 training noise, as in the authors' runs).

Reported: median relative change of e and of the pair margin e_w − e_l, B against A and C
against A. B well under C means the cache dtype is lost in bf16 training noise.

    python benchmarks/bench_cache_dtype.py --videos 40
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))


def inputs(root: Path, cache: Path, dtype: str) -> tuple[Any, Any]:
    """The config and the pair set of ``make_dataset``'s folder (one winner, one loser a prompt)."""
    import json

    from bench_cache import FRAMES

    from dsr.training.config import SpatialAlignConfig
    from dsr.training.data import PairSet, PromptPairs

    groups = json.loads((root / "pairs.json").read_text())
    prompts = tuple(
        PromptPairs(f"p{i}", f"prompt number {i}", (g[0],), (g[1],)) for i, g in enumerate(groups)
    )
    samples = {s: {"generator_settings": "{}"} for g in groups for s in g}
    config = SpatialAlignConfig(
        output_dir=str(root / "out"),
        dataset=str(root / "ds"),
        base_model=str(root / "wan"),
        cache_dir=str(cache),
        train_num_frames=FRAMES,
        max_sequence_length=16,
        cache_dtype=dtype,
        report_to="none",
    )
    return config, PairSet(prompts, samples)


def errors(root: Path, cache: Path, dtype: str, autocast: bool) -> list[float]:
    from diffusers import WanTransformer3DModel

    from dsr.builders.dataset_source import DatasetSource
    from dsr.training.cache import precompute

    config, pairs = inputs(root, cache, dtype)
    index = precompute(config, pairs, DatasetSource(root / "ds"), show_progress=False)
    model = WanTransformer3DModel.from_pretrained(str(root / "wan"), subfolder="transformer")
    out = []
    for p in pairs.prompts:
        text = index.load_text(p.prompt_id)[None]
        for k, sid in enumerate((*p.chosen, *p.rejected)):
            x0 = index.load_latents(sid)[None]
            noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(k))
            for sigma in (0.3, 0.7):
                xt = (1 - sigma) * x0 + sigma * noise
                t = torch.tensor([1000.0 * sigma])
                with torch.no_grad(), torch.autocast("cpu", torch.bfloat16, enabled=autocast):
                    pred = model(hidden_states=xt, timestep=t, encoder_hidden_states=text)[0]
                out.append(float(((pred.float() - (noise - x0)) ** 2).mean()))
    return out


def relative(a: list[float], b: list[float]) -> float:
    return statistics.median(abs(y - x) / abs(x) for x, y in zip(a, b, strict=True) if x)


def margins(e: list[float]) -> list[float]:
    """e_w − e_l per prompt and noise level (entries: w σ=0.3, w σ=0.7, l σ=0.3, l σ=0.7)."""
    return [e[i + j] - e[i + 2 + j] for i in range(0, len(e) - 3, 4) for j in (0, 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=40)
    args = parser.parse_args()
    from bench_cache import make_dataset

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_dataset(root, args.videos, per_prompt=2)
        a = errors(root, root / "cache", "float32", autocast=False)
        b = errors(root, root / "cache", "bfloat16", autocast=False)
        c = errors(root, root / "cache", "float32", autocast=True)
    print(f"{len(a)} errors e (videos × 2 noise levels); median relative change against A:")
    for name, x in (("B bfloat16 cache     ", b), ("C bf16 autocast model", c)):
        print(f"  {name}: e {relative(a, x):.2e}  margin {relative(margins(a), margins(x)):.2e}")


if __name__ == "__main__":
    main()
