from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from reference_score import reference_score

from dsr.builders.folder import ConfigRecord, DatasetFolder
from dsr.builders.score_videos import ScoreVideosConfig, match_videos, score_videos
from dsr.errors import ConfigError
from dsr.media import encode_video
from dsr.prompts import DSRPrompt
from dsr.scoring import FrameClass, ScoreConfig, decide_validity
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
        obj = np.array(
            [box((f[..., 0] > 70) & (f[..., 0] < 110) & (f[..., 2] < 50)) for f in frames],
            dtype=float,
        )
        validity = decide_validity([FrameClass.VALID] * len(frames))
        return TrackResult(animal, obj, validity)


def _animal_x(direction: int, n: int) -> list[int]:
    """Left edge of the animal square per frame: 4 → 48 moving right, 44 → 0 moving left."""
    xs = [4 + t * 44 // (n - 1) for t in range(n)]
    return xs if direction > 0 else [48 - x for x in xs]


def _frames(direction: int, n: int = 24, size: int = 64) -> np.ndarray:
    frames = np.full((n, size, size, 3), 40, dtype=np.uint8)
    frames[:, 40:48, 24:40] = (90, 60, 30)  # the object: rows 40..47, columns 24..39
    for t, x in enumerate(_animal_x(direction, n)):
        frames[t, 30:38, x : x + 10] = 250  # the animal: rows 30..37, columns x..x+9
    return frames


def _expected(direction: int, prompt_id: str, n: int = 24) -> float:
    """The DSR-Score of ``_frames(direction)`` by the plain-Python reference, from the pixel
    extents of the drawn squares (inclusive, as the tracker's boxes are)."""
    prompt = PROMPTS[prompt_id]
    animal = [[x, 30, x + 9, 37] for x in _animal_x(direction, n)]
    ref = reference_score(animal, [[24, 40, 39, 47]] * n, prompt.initial.value, prompt.final.value)
    assert ref.score is not None
    return ref.score


@pytest.fixture
def prompts_folder(tmp_path: Path) -> Path:
    from datasets import Dataset

    rows = []
    for pid, p in PROMPTS.items():
        d = p.to_dict()
        rows.append(
            {
                "prompt_id": pid,
                "prompt": d["prompt"],
                "scene": "",
                "animal": p.animal,
                "object": p.object,
                "initial": d["initial"],
                "final": d["final"],
                "dsr_type": d["dsr_type"],
                "dsr_letter": p.dsr_type.letter,
                "verb": p.verb,
                "split": "test",
                "source": "test",
            }
        )
    folder = DatasetFolder(tmp_path / "prompts")
    folder.write_config("prompts", {"test": Dataset.from_list(rows)}, ConfigRecord("prompts", {}))
    return folder.root


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    root = tmp_path / "videos"
    (root / "sub").mkdir(parents=True)
    (root / "p-lr_seed00.mp4").write_bytes(encode_video(_frames(+1), 16))
    (root / "p-lr_F81_seed01.mp4").write_bytes(
        encode_video(_frames(-1), 16)
    )  # paper's naming, wrong way
    (root / "sub" / "p-rl_seed00.mp4").write_bytes(encode_video(_frames(-1), 16))
    (root / "p-rl_seed03.mp4").write_bytes(b"this is not an mp4")  # corrupt
    (root / "unknown_seed00.mp4").write_bytes(encode_video(_frames(+1, n=4), 16))  # no such prompt
    (root / "holiday.mp4").write_bytes(b"x")  # no seed in the name
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
    mapping.write_text(
        "file,prompt_id,seed\nholiday.mp4,p-none,2\nsub/p-rl_seed00.mp4,p-rl,7\ngone.mp4,p-lr,0\n"
    )
    m = match_videos(videos, {pid: {"split": "test"} for pid in PROMPTS}, mapping)
    assert sorted(m.matched) == [("p-none", 2), ("p-rl", 7)]
    assert m.unmatched_files["gone.mp4"] == "listed in the mapping file but missing"
    assert m.unmatched_files["p-lr_seed00.mp4"] == "not in the mapping file"


def test_score_videos_writes_samples_and_pairs(
    videos: Path, prompts_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    config = ScoreVideosConfig(
        videos=str(videos), prompts=str(prompts_folder), out=str(out), model_name="toy-t2v"
    )
    result = score_videos(config, tracker=BrightSpotTracker())
    assert result.built == 4 and result.valid == 3
    rows = pl.read_parquet(DatasetFolder(out).data_files("samples", "test")).sort("sample_id")
    by_id = {r["sample_id"]: r for r in rows.drop("video").to_dicts()}
    assert by_id["p-lr__seed00"]["dsr_score"] == pytest.approx(_expected(+1, "p-lr"), abs=1e-9)
    assert by_id["p-rl__seed00"]["dsr_score"] == pytest.approx(_expected(-1, "p-rl"), abs=1e-9)
    assert by_id["p-lr__seed01"]["dsr_score"] == pytest.approx(
        _expected(-1, "p-lr"), abs=1e-9
    )  # the wrong way
    assert (
        by_id["p-rl__seed03"]["valid"] is False
        and by_id["p-rl__seed03"]["reason"] == "video_unreadable"
    )
    assert {r["generator"] for r in by_id.values()} == {"toy-t2v"}
    pairs = pl.read_parquet(DatasetFolder(out).data_files("pairs", "test"))
    assert pairs["prompt_id"].to_list() == ["p-lr"]
    record = json.loads((out / "dsr_build.json").read_text())["configs"]["samples"]
    assert record["counts"]["matching"] == {
        "matched_videos": 4,
        "unmatched_files": 2,
        "prompts_without_videos": 1,
    }
    assert (
        "holiday.mp4" in record["settings"]["test"]["matching"]["unmatched_files"]
    )  # per split, as build-videos
    assert "p-none" in (out / "README.md").read_text()
    again = score_videos(config, tracker=BrightSpotTracker())  # resumable: nothing is redone
    assert again.built == 0 and again.skipped == 4


def test_cli_with_tiny_grounded_sam2(videos: Path, prompts_folder: Path, tmp_path: Path) -> None:
    from dsr.cli import main
    from dsr.tracking.tiny import save_tiny_grounding_dino, save_tiny_sam2_video

    detector = save_tiny_grounding_dino(tmp_path / "gd")
    sam2 = save_tiny_sam2_video(tmp_path / "sam2")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        [
            "score-videos",
            str(videos),
            "--prompts",
            str(prompts_folder),
            "--out",
            str(out),
            "--detector",
            str(detector),
            "--sam2",
            str(sam2),
            "--split",
            "test",
            "--tracker-opt",
            'validity={"min_valid": 4, "max_redundant": 30, "min_run": 4}',
        ],
    )
    assert res.exit_code == 0, res.output
    assert "unmatched: holiday.mp4" in res.output and "1 prompts without videos" in res.output
    rows = pl.read_parquet(DatasetFolder(out).data_files("samples", "test")).drop("video")
    assert rows.height == 4
    settings = json.loads(rows["tracker_settings"][0])
    assert (
        settings["detector"] == "…/gd" and settings["sam2"] == "…/sam2"
    )  # local folders: no absolute path
    assert settings["validity"]["min_valid"] == 4


# -- re-runs into the same --out: reuse only unchanged inputs ----------------------------------
def _scores(out: Path) -> dict[str, tuple[bool, float | None]]:
    rows = (
        pl.read_parquet(DatasetFolder(out).data_files("samples", "test")).drop("video").to_dicts()
    )
    return {r["sample_id"]: (r["valid"], r["dsr_score"]) for r in rows}


@pytest.fixture
def scored(videos: Path, prompts_folder: Path, tmp_path: Path) -> ScoreVideosConfig:
    config = ScoreVideosConfig(
        videos=str(videos), prompts=str(prompts_folder), out=str(tmp_path / "out")
    )
    assert score_videos(config, tracker=BrightSpotTracker()).built == 4
    return config


def test_a_replaced_video_is_scored_again_and_the_others_are_reused(
    scored: ScoreVideosConfig,
) -> None:
    out, videos = Path(scored.out), Path(scored.videos)
    assert _scores(out)["p-rl__seed03"] == (False, None)  # the corrupt file
    (videos / "p-rl_seed03.mp4").write_bytes(
        encode_video(_frames(-1), 16)
    )  # replaced by a good right→left video
    again = score_videos(scored, tracker=BrightSpotTracker())
    assert (again.built, again.redone, again.skipped) == (1, 1, 3)
    assert _scores(out)["p-rl__seed03"] == (True, pytest.approx(_expected(-1, "p-rl"), abs=1e-9))


def test_another_models_videos_under_the_same_names_replace_every_row(
    scored: ScoreVideosConfig, tmp_path: Path
) -> None:
    other = tmp_path / "other-model"
    other.mkdir()
    for name, direction in (
        ("p-lr_seed00", -1),
        ("p-lr_seed01", +1),
        ("p-rl_seed00", +1),
        ("p-rl_seed03", -1),
    ):
        (other / f"{name}.mp4").write_bytes(
            encode_video(_frames(direction), 16)
        )  # every direction flipped
    config = ScoreVideosConfig(videos=str(other), prompts=scored.prompts, out=scored.out)
    again = score_videos(config, tracker=BrightSpotTracker())
    assert (again.built, again.redone, again.skipped) == (4, 4, 0)
    expected = {
        "p-lr__seed00": _expected(-1, "p-lr"),
        "p-lr__seed01": _expected(+1, "p-lr"),
        "p-rl__seed00": _expected(+1, "p-rl"),
        "p-rl__seed03": _expected(-1, "p-rl"),
    }
    assert _scores(Path(scored.out)) == {
        k: (True, pytest.approx(v, abs=1e-9)) for k, v in expected.items()
    }
    record = DatasetFolder(Path(scored.out)).config_record("samples")
    assert record is not None and record["settings"]["test"]["videos"] == "…/other-model"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"model_name": "other-t2v"}, "other model_name settings"),
        ({"score": ScoreConfig(m=5)}, "score.m: 3 → 5"),
    ],
)
def test_other_settings_into_the_same_out_are_refused(
    scored: ScoreVideosConfig, change: dict, needle: str
) -> None:
    before = _scores(Path(scored.out))
    config = ScoreVideosConfig(
        videos=scored.videos, prompts=scored.prompts, out=scored.out, **change
    )
    with pytest.raises(ConfigError, match=needle) as err:
        score_videos(config, tracker=BrightSpotTracker())
    assert "another --out" in str(err.value)
    assert _scores(Path(scored.out)) == before


def test_samples_whose_video_is_gone_are_refused_with_the_fix(scored: ScoreVideosConfig) -> None:
    (Path(scored.videos) / "p-lr_seed00.mp4").unlink()
    with pytest.raises(
        ConfigError,
        match=r"1 finished test samples .* no video in .*\(e\.g\. p-lr seed 0\): score "
        r"into a fresh --out",
    ):
        score_videos(scored, tracker=BrightSpotTracker())
    assert "p-lr__seed00" in _scores(Path(scored.out))


def test_samples_of_build_videos_are_never_mixed_with_scored_files(
    videos: Path, prompts_folder: Path, tmp_path: Path
) -> None:
    from dsr.builders.videos import VideoBuildConfig, build_videos

    out = tmp_path / "built"
    build_videos(
        VideoBuildConfig(
            prompts=str(prompts_folder),
            out=str(out),
            split="test",
            generator="synthetic",
            generator_options={"num_frames": 24, "height": 64, "width": 96},
            tracker="annotations",
            seeds=(0,),
        )
    )
    config = ScoreVideosConfig(videos=str(videos), prompts=str(prompts_folder), out=str(out))
    with pytest.raises(
        ConfigError, match="made by build-videos: score these videos into another --out"
    ):
        score_videos(config, tracker=BrightSpotTracker())


def test_build_videos_into_scored_samples_is_refused(scored: ScoreVideosConfig) -> None:
    from dsr.builders.videos import VideoBuildConfig, build_videos

    config = VideoBuildConfig(
        prompts=scored.prompts,
        out=scored.out,
        split="test",
        generator="synthetic",
        generator_options={"num_frames": 24, "height": 64, "width": 96},
        tracker="annotations",
        seeds=(0,),
    )
    with pytest.raises(
        ConfigError, match="scored from video files by score-videos: build into another --out"
    ):
        build_videos(config)


def test_files_named_after_the_source_id_are_matched(tmp_path: Path) -> None:
    from dsr.builders.prompts import PromptBuildConfig, build_prompts

    authors = tmp_path / "eval.csv"  # the layout of the authors' eval_csv/eval120.csv
    authors.write_text(
        "group,type,prompt_id,scene,initial_SR,final_SR,animal,object,prompt\n"
        "1043,LR,1043_LR,In a quiet park,on the left of,to the right of,cat,bench,"
        '"In a quiet park, a cat is on the left of a bench, then the cat walks to the right '
        'of the bench."\n'
        "1046,RL,1046_RL,In a quiet park,on the right of,to the left of,dog,rock,"
        '"In a quiet park, a dog is on the right of a rock, then the dog runs to the left '
        'of the rock."\n'
    )
    prompts = tmp_path / "prompts"
    build_prompts(
        PromptBuildConfig(
            out=prompts, backend="file", n_train=0, n_test=6, backend_options={"path": str(authors)}
        )
    )
    rows = pl.read_parquet(DatasetFolder(prompts).data_files("prompts", "test")).to_dicts()
    assert {r["source_id"]: r["dsr_type"] for r in rows} == {"1043_LR": "LR", "1046_RL": "RL"}
    assert all(
        r["prompt_id"].startswith(r["dsr_type"].lower() + "-") for r in rows
    )  # our ids stay ours
    ours = {r["source_id"]: r["prompt_id"] for r in rows}
    videos = tmp_path / "authors-videos"
    videos.mkdir()
    (videos / "1043_LR_F81_seed00.mp4").write_bytes(encode_video(_frames(+1), 16))
    (videos / "1046_RL_F81_seed02.mp4").write_bytes(encode_video(_frames(-1), 16))
    records = {r["prompt_id"]: r for r in rows}
    m = match_videos(videos, records)
    assert {key: path.name for key, path in m.matched.items()} == {
        (ours["1043_LR"], 0): "1043_LR_F81_seed00.mp4",
        (ours["1046_RL"], 2): "1046_RL_F81_seed02.mp4",
    }
    assert m.unmatched_files == {} and m.prompts_without_videos == {}


def test_a_repeated_source_id_is_a_bad_row(tmp_path: Path) -> None:
    from dsr.builders.prompts import PromptBuildConfig, build_prompts

    path = tmp_path / "ids.jsonl"
    path.write_text(
        '{"id": "a1", "prompt": "A cat is on the left of a bench, then the cat walks to the right '
        'of the bench."}\n'
        '{"id": "a1", "prompt": "A dog is on the right of a rock, then the dog runs to the left '
        'of the rock."}\n'
    )
    result = build_prompts(
        PromptBuildConfig(
            out=tmp_path / "p",
            backend="file",
            n_train=0,
            n_test=6,
            backend_options={"path": str(path)},
        )
    )
    assert result.rejects == {"bad_row": 1}
    rejects = (tmp_path / "p" / "assets" / "prompt_rejects.jsonl").read_text()
    assert "id 'a1' is already used by ids.jsonl:1" in rejects
