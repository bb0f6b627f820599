"""Plain helpers of the report tests (the dataset's prompts and build, stored rows, Chromium's
settings); fixtures stay in conftest.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from dsr.builders.folder import ConfigRecord, DatasetFolder
from dsr.prompts import DSRPrompt, DSRType

#: Small videos that still show the boxes in a screenshot.
VIDEO = {"num_frames": 32, "height": 120, "width": 208, "fps": 8, "scenario": "cycle"}
#: Seeds → scenarios (seed % 10): follow (a winner), reverse (a loser), second_animal
#: (too_many_redundant), flicker (no_valid_run), hidden_briefly (valid, with absent boxes).
TRAIN_SEEDS = (0, 1, 5, 8, 9)
TEST_SEEDS = (0, 1)
ANIMALS = ("fox", "cat", "duck", "rabbit", "dog", "bird")
OBJECTS = ("stump", "rock", "bench", "crate", "sofa", "basket")
CHROMIUM = os.environ.get("DSR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Screenshots of the browser tests (kept after the run; ignored by git).
ARTIFACTS = (
    Path(
        os.environ.get("DSR_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
    )
    / "report"
)


def prompt_rows(split: str, n: int = 6) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        t = list(DSRType)[i % 6]
        p = DSRPrompt(
            "In a quiet park", ANIMALS[i % 6], OBJECTS[i % 6], t.initial, t.final, "walks"
        )
        rows.append(
            {**p.to_dict(), "prompt_id": f"{split}-{i:03d}", "split": split, "source": "test"}
        )
    return rows


def build_dataset(root: Path) -> Path:
    """Prompts of both splits, then train and test samples (synthetic videos, annotations
    tracker) merged into samples, tracks and pairs."""
    import datasets

    from dsr.builders.videos import VideoBuildConfig, build_videos

    DatasetFolder(root).write_config(
        "prompts",
        {s: datasets.Dataset.from_list(prompt_rows(s)) for s in ("train", "test")},
        ConfigRecord(description="test prompts", columns={}),
    )
    for split, seeds in (("train", TRAIN_SEEDS), ("test", TEST_SEEDS)):
        build_videos(
            VideoBuildConfig(
                prompts=str(root),
                out=str(root),
                split=split,
                generator="synthetic",
                generator_options=dict(VIDEO),
                tracker="annotations",
                seeds=seeds,
                rows_per_shard=8,
                command="pytest",
            )
        )
    return root


def stored_rows(root: Path, config: str = "samples") -> list[dict[str, Any]]:
    """Every row of ``config`` as stored (read with pyarrow; the video column left out)."""
    folder = DatasetFolder(root)
    rows = []
    for split in folder.config_record(config)["splits"]:
        for path in folder.data_files(config, split):
            names = [c for c in pq.read_schema(path).names if c != "video"]
            rows += pq.read_table(path, columns=names).to_pylist()
    return rows
