from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from dsr.builders.folder import ConfigRecord, DatasetFolder
from dsr.builders.score_videos import ScoreVideosConfig, match_videos, score_videos
from dsr.media import encode_video
from dsr.prompts import DSRPrompt
from dsr.scoring import FrameClass, decide_validity
from dsr.tracking.base import TrackResult

PROMPTS = {
    "p-lr": DSRPrompt("", "cat", "bench", "left", "right", "walks"),
    "p-rl": DSRPrompt("", "dog", "rock", "right", "left", "runs"),
    "p-none": DSRPrompt("", "fox", "stump", "left", "top", "jumps"),
}


class BrightSpotTracker:
    """A test tracker: the animal is the white square, the object the brown bar (colour masks)."""

    name = "bright-spot"

    def settings(self) -> dict[str, Any]:
        return {"tracker": self.name}

    def track(self, frames: np.ndarray, prompt: DSRPrompt, annotations: Any = None) -> TrackResult:
        def box(mask: np.ndarray) -> list[float]:
            ys, xs = np.nonzero(mask)
            return [xs.min(), ys.min(), xs.max(), ys.max()] if xs.size else [np.nan] * 4

        animal = np.array([box(f.min(axis=-1) > 200) for f in frames], dtype=float)
        obj = np.array([box((f[..., 0] > 70) & (f[..., 0] < 110) & (f[..., 2] < 50)) for f in frames], dtype=float)
        validity = decide_validity([FrameClass.VALID] * len(frames))
        return TrackResult(animal, obj, validity)


def _frames(direction: int, n: int = 24, size: int = 64) -> np.ndarray:
    frames = np.full((n, size, size, 3), 40, dtype=np.uint8)
    frames[:, 40:48, 24:40] = (90, 60, 30)
    for t in range(n):
        x = 4 + t * 44 // (n - 1)
        x = x if direction > 0 else 48 - x
        frames[t, 30:38, x : x + 10] = 250
    return frames


@pytest.fixture
def prompts_folder(tmp_path: Path) -> Path:
    from datasets import Dataset

    rows = []
    for pid, p in PROMPTS.items():
        d = p.to_dict()
        rows.append({"prompt_id": pid, "prompt": d["prompt"], "scene": "", "animal": p.animal, "object": p.object,
                     "initial": d["initial"], "final": d["final"], "dsr_type": d["dsr_type"],
                     "dsr_letter": p.dsr_type.letter, "verb": p.verb, "split": "test", "source": "test"})
    folder = DatasetFolder(tmp_path / "prompts")
    folder.write_config("prompts", {"test": Dataset.from_list(rows)}, ConfigRecord("prompts", {}))
    return folder.root


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    root = tmp_path / "videos"
    (root / "sub").mkdir(parents=True)
    (root / "p-lr_seed00.mp4").write_bytes(encode_video(_frames(+1), 16))
    (root / "p-lr_F81_seed01.mp4").write_bytes(encode_video(_frames(-1), 16))   # paper's naming, wrong way
    (root / "sub" / "p-rl_seed00.mp4").write_bytes(encode_video(_frames(-1), 16))
    (root / "p-rl_seed03.mp4").write_bytes(b"this is not an mp4")                 # corrupt
    (root / "unknown_seed00.mp4").write_bytes(encode_video(_frames(+1, n=4), 16))  # no such prompt
    (root / "holiday.mp4").write_bytes(b"x")                                       # no seed in the name
    return root


def test_upper_case_mp4_is_matched_and_other_files_are_listed(videos: Path) -> None:
    (videos / "p-none_seed04.MP4").write_bytes(encode_video(_frames(+1), 16))
    (videos / "p-none_seed05.mov").write_bytes(b"mov")
    m = match_videos(videos, {pid: {"split": "test"} for pid in PROMPTS})
    assert m.matched[("p-none", 4)].name == "p-none_seed04.MP4"
    assert m.unmatched_files["p-none_seed05.mov"] == "not an .mp4 file"
    assert m.prompts_without_videos == {}


def test_match_by_name_lists_unmatched_files_and_prompts_without_videos(videos: Path) -> None:
    records = {pid: {"split": "test"} for pid in PROMPTS}
    m = match_videos(videos, records)
    assert sorted(m.matched) == [("p-lr", 0), ("p-lr", 1), ("p-rl", 0), ("p-rl", 3)]
    assert set(m.unmatched_files) == {"unknown_seed00.mp4", "holiday.mp4"}
    assert m.prompts_without_videos == {"test": ["p-none"]}
    assert m.counts() == {"matched_videos": 4, "unmatched_files": 2, "prompts_without_videos": 1}


def test_match_by_mapping_file(videos: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text("file,prompt_id,seed\nholiday.mp4,p-none,2\nsub/p-rl_seed00.mp4,p-rl,7\ngone.mp4,p-lr,0\n")
    m = match_videos(videos, {pid: {"split": "test"} for pid in PROMPTS}, mapping)
    assert sorted(m.matched) == [("p-none", 2), ("p-rl", 7)]
    assert m.unmatched_files["gone.mp4"] == "listed in the mapping file but missing"
    assert m.unmatched_files["p-lr_seed00.mp4"] == "not in the mapping file"


def test_score_videos_writes_samples_and_pairs(videos: Path, prompts_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    config = ScoreVideosConfig(videos=str(videos), prompts=str(prompts_folder), out=str(out), model_name="toy-t2v")
    result = score_videos(config, tracker=BrightSpotTracker())
    assert result.built == 4 and result.valid == 3
    rows = pl.read_parquet(DatasetFolder(out).data_files("samples", "test")).sort("sample_id")
    by_id = {r["sample_id"]: r for r in rows.drop("video").to_dicts()}
    assert by_id["p-lr__seed00"]["dsr_score"] > 0.9 and by_id["p-rl__seed00"]["dsr_score"] > 0.9
    assert by_id["p-lr__seed01"]["dsr_score"] < 0.1   # moved the wrong way
    assert by_id["p-rl__seed03"]["valid"] is False and by_id["p-rl__seed03"]["reason"] == "video_unreadable"
    assert {r["generator"] for r in by_id.values()} == {"toy-t2v"}
    pairs = pl.read_parquet(DatasetFolder(out).data_files("pairs", "test"))
    assert pairs["prompt_id"].to_list() == ["p-lr"]
    record = json.loads((out / "dsr_build.json").read_text())["configs"]["samples"]
    assert record["counts"]["matching"] == {"matched_videos": 4, "unmatched_files": 2, "prompts_without_videos": 1}
    assert "holiday.mp4" in record["settings"]["matching"]["unmatched_files"]
    assert "p-none" in (out / "README.md").read_text()
    again = score_videos(config, tracker=BrightSpotTracker())  # resumable: nothing is redone
    assert again.built == 0 and again.skipped == 4


def test_cli_with_tiny_grounded_sam2(videos: Path, prompts_folder: Path, tmp_path: Path) -> None:
    from dsr.cli import main
    from dsr.tracking.tiny import save_tiny_grounding_dino, save_tiny_sam2_video

    detector = save_tiny_grounding_dino(tmp_path / "gd")
    sam2 = save_tiny_sam2_video(tmp_path / "sam2")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["score-videos", str(videos), "--prompts", str(prompts_folder), "--out", str(out),
                                    "--detector", str(detector), "--sam2", str(sam2), "--split", "test",
                                    "--tracker-opt", 'validity={"min_valid": 4, "max_redundant": 30, "min_run": 4}'])
    assert res.exit_code == 0, res.output
    assert "unmatched: holiday.mp4" in res.output and "1 prompts without videos" in res.output
    rows = pl.read_parquet(DatasetFolder(out).data_files("samples", "test")).drop("video")
    assert rows.height == 4
    settings = json.loads(rows["tracker_settings"][0])
    assert settings["detector"] == str(detector) and settings["sam2"] == str(sam2)
    assert settings["validity"]["min_valid"] == 4
