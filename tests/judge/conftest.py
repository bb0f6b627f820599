"""Fixtures of the judge tests: a small synthetic dataset (built once) whose samples cover the
synthetic scenarios with known ground truth, and a copy of it per test."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "builders"))

#: 24 frames (the DSR-Score needs 20 usable ones) of 64×96.
VIDEO = {"num_frames": 24, "height": 64, "width": 96, "fps": 8}


@pytest.fixture(scope="session")
def judge_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 prompts (one per DSR type) × seeds 0-5, the synthetic scenarios in turn: follow, reverse,
    static, wrong target, partial (all valid) and a second animal (invalid)."""
    from _videos_helpers import prompt_records, write_prompts

    from dsr.builders.videos import VideoBuildConfig, build_videos

    root = tmp_path_factory.mktemp("judge-dataset")
    prompts = write_prompts(root / "prompts", prompt_records(6))
    out = root / "ds"
    build_videos(
        VideoBuildConfig(
            prompts=str(prompts),
            out=str(out),
            generator="synthetic",
            generator_options={**VIDEO, "scenario": "cycle"},
            tracker="annotations",
            samples_per_prompt=6,
        )
    )
    return out


@pytest.fixture
def dataset(judge_dataset: Path, tmp_path: Path) -> Path:
    """A fresh copy of the dataset (without its work area) for one test to write into."""
    return Path(
        shutil.copytree(judge_dataset, tmp_path / "ds", ignore=shutil.ignore_patterns(".dsr"))
    )
