"""Fixtures of the training tests: a tiny random Wan pipeline saved to disk (loaded back through
the production ``from_pretrained`` path) and a small dataset folder built by ``build-videos`` with
the synthetic generator, whose pairs hold winners and losers for every prompt."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "builders"))

#: 33 frames (4k+1) of 64×96 (multiples of 16), like Wan's but tiny.
VIDEO = {"num_frames": 33, "height": 64, "width": 96, "fps": 8}
#: Settings of a fast tiny run (9 frames of the 33, full size).
FAST: dict[str, Any] = {
    "train_num_frames": 9,
    "max_sequence_length": 16,
    "effective_batch_size": 2,
    "warmup_steps": 0,
    "logging_steps": 1,
    "save_steps": 1000,
    "report_to": "none",
    "disable_tqdm": True,
    "learning_rate": 1e-3,
    "max_steps": 3,
    # recomputation only costs time on a model this small (test_config checks the default: on)
    "activation_checkpointing": False,
}


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


def run_two_ranks(settings: dict[str, Any], timeout: int = 240) -> subprocess.CompletedProcess[str]:
    """``_ddp_worker.py`` under ``torchrun --nproc-per-node 2`` on the CPU (gloo) with ``settings``
    (SpatialAlignConfig fields), on a free port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    worker = Path(__file__).with_name("_ddp_worker.py")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2"]
    cmd += ["--master-port", str(port), str(worker), json.dumps(settings)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
