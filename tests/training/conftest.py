"""Fixtures of the training tests: a tiny random Wan pipeline saved to disk (loaded back through
the production ``from_pretrained`` path) and a small dataset folder built by ``build-videos`` with
the synthetic generator, whose pairs hold winners and losers for every prompt."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from _training_helpers import FAST, VIDEO

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "builders"))


@pytest.fixture(scope="session")
def tiny_wan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dsr.generation.tiny import save_tiny_wan

    return save_tiny_wan(tmp_path_factory.mktemp("tiny-wan") / "wan", seed=0)


@pytest.fixture(scope="session")
def pairs_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 prompts × seeds 0-5 with the synthetic scenarios in turn (follow, reverse, static,
    wrong target, partial, second animal): every prompt has winners and losers."""
    from _videos_helpers import prompt_records, write_prompts

    from dsr.builders.videos import VideoBuildConfig, build_videos

    root = tmp_path_factory.mktemp("pairs-dataset")
    prompts = write_prompts(root / "prompts", prompt_records(4))
    out = root / "ds"
    result = build_videos(
        VideoBuildConfig(
            prompts=str(prompts),
            out=str(out),
            generator="synthetic",
            generator_options={**VIDEO, "scenario": "cycle"},
            tracker="annotations",
            samples_per_prompt=6,
        )
    )
    assert result.merged is not None and result.merged.pairs["train"]["kept"] == 4
    return out


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("training-cache")


@pytest.fixture
def make_config(tiny_wan: Path, pairs_dataset: Path, shared_cache: Path, tmp_path: Path):
    """``make_config(**overrides)``: a SpatialAlignConfig of a fast tiny run in ``tmp_path/run``."""
    from dsr.training.config import SpatialAlignConfig

    def make(**overrides: Any) -> SpatialAlignConfig:
        values = {
            "output_dir": str(tmp_path / "run"),
            "dataset": str(pairs_dataset),
            "base_model": str(tiny_wan),
            "cache_dir": str(shared_cache),
            **FAST,
            **overrides,
        }
        return SpatialAlignConfig(**values)

    return make
