"""``--paper-exact`` in build-videos and score-videos: the authors' behaviour is recorded in the
settings, every sample says which rule of ours changed it (column ``deviations``), and the build
summary and record count those samples."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from _videos_helpers import prompt_records, write_prompts
from click.testing import CliRunner, Result

from dsr.cli import main
from dsr.generation import GENERATORS
from dsr.generation.base import GeneratedVideo
from dsr.generation.synthetic import SyntheticGenerator
from dsr.media import encode_video
from dsr.prompts import DSRPrompt

FRAMES = 24
ARGS = [
    "--generator",
    "plural-synthetic",
    "--tracker",
    "annotations",
    "--seeds",
    "0-3",
    "--generator-opt",
    f"num_frames={FRAMES}",
    "--generator-opt",
    "height=48",
    "--generator-opt",
    "width=64",
    "--generator-opt",
    "scenario=follow",
]


class PluralSynthetic(SyntheticGenerator):
    """Synthetic videos whose detector names the animal in the plural ("foxs") for odd seeds."""

    name = "plural-synthetic"

    def generate_one(self, prompt: DSRPrompt, seed: int) -> GeneratedVideo:
        video = super().generate_one(prompt, seed)
        if seed % 2 == 0 or video.annotations is None:
            return video
        plural = tuple(
            tuple((label + "s" if label == prompt.animal else label, box) for label, box in frame)
            for frame in video.annotations.detections
        )
        return replace(video, annotations=replace(video.annotations, detections=plural))


@pytest.fixture(autouse=True)
def _registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(GENERATORS._entries, "plural-synthetic", f"{__name__}:PluralSynthetic")


def _build(root: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        main, ["build-videos", "--prompts", str(root), "--out", str(root), *ARGS, *extra]
    )


def _samples(root: Path) -> list[dict[str, Any]]:
    df = pl.concat([pl.read_parquet(p) for p in (root / "samples").glob("*.parquet")]).drop("video")
    return sorted(df.to_dicts(), key=lambda r: r["sample_id"])


def test_default_build_records_and_counts_the_samples_normalization_changed(tmp_path: Path) -> None:
    root = write_prompts(tmp_path / "ds", prompt_records(2))
    result = _build(root)
    assert result.exit_code == 0, result.output
    rows = _samples(root)
    assert [r["seed"] for r in rows] == [0, 1, 2, 3] * 2
    assert all(r["valid"] for r in rows)  # "foxs" was matched to "fox"...
    assert [r["deviations"] for r in rows] == [
        [],
        ["label_match"],
    ] * 4  # ...and each odd seed says so
    odd = json.loads(rows[1]["notes"])
    assert odd["label_match_frames"] == list(range(FRAMES))
    assert (
        "changed by rules beyond the authors' code: 4 samples (label_match=4); --paper-exact"
        in result.output
    )
    record = json.loads((root / "dsr_build.json").read_text())["configs"]["samples"]
    assert record["counts"]["deviations"] == {"train": {"changed": 4, "label_match": 4}}
    assert record["settings"]["train"]["paper_exact"] is False
    again = _build(root, "--paper-exact")  # other tracker settings: refused, not mixed in
    assert again.exit_code == 1 and "tracker.label_match: 'normalized' → 'exact'" in again.output


def test_paper_exact_build_uses_and_records_the_authors_rules(tmp_path: Path) -> None:
    root = write_prompts(tmp_path / "ds", prompt_records(2))
    result = _build(root, "--paper-exact")
    assert result.exit_code == 0, result.output
    rows = _samples(root)
    assert [r["deviations"] for r in rows] == [[]] * 8
    assert [(r["valid"], r["reason"]) for r in rows] == [
        (True, None),
        (False, "too_many_redundant"),
    ] * 4
    assert "changed by rules beyond the authors' code: 0 samples" in result.output
    settings = json.loads((root / "dsr_build.json").read_text())["configs"]["samples"]["settings"][
        "train"
    ]
    assert settings["paper_exact"] is True and settings["tracker"]["label_match"] == "exact"


def test_paper_exact_conflicting_option_is_refused(tmp_path: Path) -> None:
    root = write_prompts(tmp_path / "ds", prompt_records(1))
    result = _build(root, "--paper-exact", "--tracker-opt", "label_match=normalized")
    assert result.exit_code == 1 and "--paper-exact sets label_match='exact'" in result.output
    assert not (root / ".dsr" / "videos").exists()


def test_score_videos_paper_exact_is_recorded(tmp_path: Path) -> None:
    root = write_prompts(tmp_path / "ds", prompt_records(1))
    videos = tmp_path / "videos"
    videos.mkdir()
    frames = np.random.default_rng(0).integers(0, 255, (8, 32, 32, 3), dtype=np.uint8)
    (videos / "train-000_seed00.mp4").write_bytes(encode_video(frames, 8))
    result = CliRunner().invoke(
        main,
        [
            "score-videos",
            str(videos),
            "--prompts",
            str(root),
            "--out",
            str(root),
            "--tracker",
            "annotations",
            "--paper-exact",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "changed by rules beyond the authors' code: 0 samples" in result.output
    settings = json.loads((root / "dsr_build.json").read_text())["configs"]["samples"]["settings"][
        "train"
    ]
    assert settings["paper_exact"] is True and settings["tracker"]["label_match"] == "exact"
