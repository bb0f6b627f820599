"""The embedded default job behind ``make demo``: the whole pipeline on the CPU, no weights.

template prompts (``build-prompts``) → synthetic videos with ground-truth annotations
(``build-videos --generator synthetic --tracker annotations``, a train and a small test split) →
the ``samples`` and ``pairs`` configs of one dataset folder, its card, the correctness-curve PNG
and one SSR-curve PNG → a few SpatialAlign steps of a tiny random Wan on those pairs
(``train --tiny``): adapter, card, curves. The CLI ends by printing the next commands.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DemoResult", "run_demo"]

log = logging.getLogger(__name__)

#: Half-resolution Wan-shaped clips keep the demo under a minute on 2 CPU cores.
DEMO_VIDEO = {"num_frames": 81, "height": 240, "width": 416, "fps": 16}
#: Test prompts of the demo (its ``test`` split, for ``dsr eval``).
DEMO_TEST_PROMPTS = 6


@dataclass
class DemoResult:
    """Where the demo wrote its outputs and what it measured."""

    dataset: Path
    correctness_plot: Path
    ssr_plot: Path
    merged: Any
    adapter: Path | None = None
    training: Any = None


def run_demo(
    out_dir: str | Path = "demo_output",
    seed: int = 0,
    n_prompts: int = 6,
    seeds_per_prompt: int = 4,
    train_steps: int = 8,
    test_seeds_per_prompt: int = 2,
) -> DemoResult:
    """Build a small DSR-Dataset in ``out_dir/dataset`` (``train`` and a small ``test`` split, as
    ``dsr eval`` reads) and train a tiny adapter on it in ``out_dir/adapter`` (``train_steps=0``
    skips training); returns the paths written."""
    from dsr.builders.prompts import PromptBuildConfig, build_prompts

    dataset = Path(out_dir) / "dataset"
    build_prompts(
        PromptBuildConfig(
            out=dataset,
            backend="template",
            n_train=n_prompts,
            n_test=DEMO_TEST_PROMPTS,
            seed=seed,
            command="dsr demo",
        )
    )
    _build_split(dataset, "train", seeds_per_prompt)
    merged = _build_split(dataset, "test", test_seeds_per_prompt).merged
    demo = DemoResult(
        dataset, dataset / "assets" / "samples_correctness.png", _ssr_plot(dataset), merged
    )
    if train_steps:
        demo.adapter = Path(out_dir) / "adapter"
        demo.training = _train_tiny(dataset, demo.adapter, train_steps, seed)
    return demo


def _build_split(dataset: Path, split: str, seeds_per_prompt: int) -> Any:
    """``build-videos --generator synthetic --tracker annotations`` of one split."""
    from dsr.builders.videos import VideoBuildConfig, build_videos

    return build_videos(
        VideoBuildConfig(
            prompts=str(dataset),
            out=str(dataset),
            split=split,
            generator="synthetic",
            generator_options=dict(DEMO_VIDEO),
            tracker="annotations",
            samples_per_prompt=seeds_per_prompt,
            command="dsr demo",
        )
    )


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """torch on one thread: the tiny models' operations are too small to gain from more, and on a
    busy machine threads that wait for each other made the tiny run ten times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _train_tiny(dataset: Path, out: Path, steps: int, seed: int) -> Any:
    """``dsr train --tiny`` on the demo dataset."""
    from dsr.training.config import SpatialAlignConfig
    from dsr.training.run import train
    from dsr.training.tiny import TINY_TRAINING, tiny_base_model

    settings: dict[str, Any] = {
        **TINY_TRAINING,
        "max_steps": steps,
        "save_steps": max(1, steps // 2),
    }
    config = SpatialAlignConfig(
        output_dir=str(out),
        dataset=str(dataset),
        base_model=str(tiny_base_model(out)),
        seed=seed,
        disable_tqdm=True,
        cache_dir=str(dataset / ".dsr" / "training-cache"),
        **settings,
    )
    with _one_thread():
        return train(config, command="dsr demo")


def _ssr_plot(dataset: Path) -> Path:
    """The SSR curves of the best-scoring valid sample."""
    import polars as pl

    from dsr.builders.folder import DatasetFolder
    from dsr.scoring import plot_ssr_curves

    files = DatasetFolder(dataset).data_files("samples", "train")
    df = pl.concat(
        [
            pl.read_parquet(
                f,
                columns=[
                    "sample_id",
                    "initial",
                    "final",
                    "valid",
                    "dsr_score",
                    "ssr_initial",
                    "ssr_final",
                    "prompt",
                    "key_frame",
                ],
            )
            for f in files
        ]
    )
    best = df.filter(pl.col("valid")).sort("dsr_score", descending=True).row(0, named=True)
    return plot_ssr_curves(
        best["ssr_initial"],
        best["ssr_final"],
        dataset / "assets" / f"ssr_{best['sample_id']}.png",
        initial=best["initial"],
        final=best["final"],
        title=f"{best['sample_id']}: DSR-Score {best['dsr_score']:.3f}",
        prompt=best["prompt"],
        key_frame=best["key_frame"],
    )
