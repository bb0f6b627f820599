"""The embedded default job behind ``make demo``: the whole pipeline on the CPU, no weights.

template prompts (``build-prompts``) → synthetic videos with ground-truth annotations
(``build-videos --generator synthetic --tracker annotations``) → the ``samples`` and ``pairs``
configs of one dataset folder, its card, the correctness-curve PNG and one SSR-curve PNG.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DemoResult", "run_demo"]

log = logging.getLogger(__name__)

#: Half-resolution Wan-shaped clips keep the demo within a couple of minutes on 2 CPU cores.
DEMO_VIDEO = {"num_frames": 81, "height": 240, "width": 416, "fps": 16}


@dataclass
class DemoResult:
    """Where the demo wrote its outputs and what it measured."""

    dataset: Path
    correctness_plot: Path
    ssr_plot: Path
    merged: Any


def run_demo(out_dir: str | Path = "demo_output", seed: int = 0, n_prompts: int = 6, seeds_per_prompt: int = 4) -> DemoResult:
    """Build a small DSR-Dataset in ``out_dir/dataset``; returns the paths written."""
    from dsr.builders.prompts import PromptBuildConfig, build_prompts
    from dsr.builders.videos import VideoBuildConfig, build_videos

    dataset = Path(out_dir) / "dataset"
    build_prompts(PromptBuildConfig(out=dataset, backend="template", n_train=n_prompts, n_test=6, seed=seed,
                                    command="dsr demo"))
    result = build_videos(VideoBuildConfig(
        prompts=str(dataset), out=str(dataset), split="train", generator="synthetic",
        generator_options=dict(DEMO_VIDEO), tracker="annotations", samples_per_prompt=seeds_per_prompt,
        command="dsr demo",
    ))
    merged = result.merged
    return DemoResult(dataset, dataset / "assets" / "samples_correctness.png", _ssr_plot(dataset), merged)


def _ssr_plot(dataset: Path) -> Path:
    """The SSR curves of the best-scoring valid sample."""
    import polars as pl

    from dsr.builders.folder import DatasetFolder
    from dsr.scoring import plot_ssr_curves

    files = DatasetFolder(dataset).data_files("samples", "train")
    df = pl.concat([pl.read_parquet(f, columns=["sample_id", "initial", "final", "valid", "dsr_score",
                                                 "ssr_initial", "ssr_final"]) for f in files])
    best = df.filter(pl.col("valid")).sort("dsr_score", descending=True).row(0, named=True)
    return plot_ssr_curves(best["ssr_initial"], best["ssr_final"], dataset / "assets" / f"ssr_{best['sample_id']}.png",
                           initial=best["initial"], final=best["final"],
                           title=f"{best['sample_id']}: DSR-Score {best['dsr_score']:.3f}")
