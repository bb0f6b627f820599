"""The reward ablation's data path: ``dsr judge --pairs`` writes ``pairs-vlm`` into a dataset
folder and ``dsr train --pairs-config pairs-vlm`` trains on it (one step of the tiny Wan)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "judge"))


def test_training_runs_on_the_vlm_pairs(
    pairs_dataset: Path, make_config, openai_server, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from _oracle import GroundTruthVLM

    from dsr.judge.config import JudgeConfig, JudgeOptions
    from dsr.judge.run import judge
    from dsr.training.run import train

    folder = Path(
        shutil.copytree(pairs_dataset, tmp_path / "ds", ignore=shutil.ignore_patterns(".dsr"))
    )
    openai_server.reset(default=GroundTruthVLM(folder))
    judged = judge(
        JudgeConfig(
            str(folder), JudgeOptions(model="gpt-4o", base_url=openai_server.base_url, pairs=True)
        )
    )
    assert judged.pairs is not None and judged.pairs.counts["train"]["kept"] > 0
    result = train(
        make_config(
            output_dir=str(tmp_path / "run"),
            dataset=str(folder),
            pairs_config="pairs-vlm",
            max_steps=1,
        )
    )
    assert (
        result.global_step == 1 and result.data["prompts"] == judged.pairs.counts["train"]["kept"]
    )
    config = json.loads((tmp_path / "run" / "training_config.json").read_text())
    assert config["settings"]["pairs_config"] == "pairs-vlm" and config["data"]["tau"] == 1.0
