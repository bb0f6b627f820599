"""End to end: synthetic videos + annotations tracker → samples and pairs configs that load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from _videos_helpers import TINY, prompt_records, write_prompts
from reference_score import reference_score

from dsr.builders.folder import DatasetFolder
from dsr.builders.videos import VideoBuildConfig, build_videos


def _config(tmp: Path, prompts: Path, **kw) -> VideoBuildConfig:
    opts = {
        "generator": "synthetic",
        "generator_options": {**TINY, "scenario": "cycle"},
        "tracker": "annotations",
        "samples_per_prompt": 10,
    }
    opts.update(kw)
    return VideoBuildConfig(prompts=str(prompts), out=str(tmp), **opts)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("e2e")
    prompts = write_prompts(root / "prompts", prompt_records(4))
    out = root / "ds"
    result = build_videos(_config(out, prompts))
    assert result.built == 40 and result.merged is not None
    return out


def _table(root: Path, config: str) -> list[dict]:
    files = DatasetFolder(root).data_files(config, "train")
    rows = [r for f in files for r in pq.read_table(f).to_pylist()]
    return rows


def test_every_validity_reason_appears_with_the_right_scenario(built: Path) -> None:
    import json

    rows = _table(built, "samples")
    by_scenario = {}
    for r in rows:
        by_scenario.setdefault(json.loads(r["generator_settings"])["scenario"], set()).add(
            r["reason"]
        )
    assert by_scenario["second_animal"] == {"too_many_redundant"}
    assert by_scenario["object_missing"] == {"too_few_valid"}
    assert by_scenario["leaves_frame"] == {"too_few_valid"}
    assert by_scenario["flicker"] == {"no_valid_run"}
    for ok in ("follow", "reverse", "static", "wrong_target", "partial", "hidden_briefly"):
        assert by_scenario[ok] == {None}, ok
    for r in rows:
        assert r["valid"] == (r["reason"] is None)
        assert (r["dsr_score"] is None) == (not r["valid"])
        assert not r["valid"] or r["reason_detail"] is None
        assert r["valid"] or "frames" in r["reason_detail"]


def test_stored_scores_are_the_reference_scores_of_the_stored_boxes(built: Path) -> None:
    rows = [r for r in _table(built, "samples") if r["num_frames"]]
    assert len(rows) == 40
    for r in rows:
        ref = reference_score(r["animal_boxes"], r["object_boxes"], r["initial"], r["final"])
        expected = (
            ref.score if r["valid"] else None
        )  # a sample invalid by the detections has no score
        assert r["dsr_score"] == (
            None if expected is None else pytest.approx(expected, abs=1e-9)
        ), r["sample_id"]
        assert r["n_usable_frames"] == ref.n_frames


def test_follower_scores_high_and_reverse_mover_low(built: Path) -> None:
    import json

    rows = [r for r in _table(built, "samples") if r["dsr_type"] in ("LR", "RL")]
    by_scenario: dict[str, list[float]] = {}
    for r in rows:
        by_scenario.setdefault(json.loads(r["generator_settings"])["scenario"], []).append(
            r["dsr_score"]
        )
    assert by_scenario["follow"] and by_scenario["reverse"]
    assert (
        min(by_scenario["follow"]) >= 0.9 and max(by_scenario["reverse"]) <= 0.1
    )  # clear winner and loser


def test_rows_are_complete_and_sorted(built: Path) -> None:
    from dsr.builders.samples import SAMPLE_COLUMNS

    rows = _table(built, "samples")
    assert [(r["prompt_id"], r["seed"]) for r in rows] == sorted(
        (r["prompt_id"], r["seed"]) for r in rows
    )
    assert list(rows[0]) == list(SAMPLE_COLUMNS)
    r = next(r for r in rows if r["valid"])
    assert (
        len(r["animal_boxes"])
        == len(r["frame_classes"])
        == len(r["ssr_initial"])
        == r["num_frames"]
        == 32
    )
    assert (
        r["key_frame"] is not None
        and r["tracker"] == "annotations"
        and r["generator"] == "synthetic"
    )
    assert r["video"]["bytes"][4:8] == b"ftyp"
    assert len(r["detections"]) == 32  # per frame, so validity can be re-decided later
    assert {d["label"] for d in r["detections"][r["key_frame"]]} == {r["animal"], r["object"]}
    assert r["score_settings"] == {"m": 3, "min_frames": 20, "box_check": "positive"}
    assert r["encode_settings"] == {
        "codec": "libx264",
        "crf": 18,
        "preset": "medium",
        "pix_fmt": "yuv420p",
    }


def test_pairs_follow_spec(built: Path) -> None:
    samples = {r["sample_id"]: r for r in _table(built, "samples")}
    pairs = _table(built, "pairs")
    assert pairs
    for p in pairs:
        assert p["chosen_ids"] and p["rejected_ids"] and p["n_valid"] >= 2
        assert all(samples[s]["valid"] and samples[s]["dsr_score"] >= 0.7 for s in p["chosen_ids"])
        assert all(samples[s]["valid"] and samples[s]["dsr_score"] < 0.7 for s in p["rejected_ids"])
        assert p["chosen_scores"] == [samples[s]["dsr_score"] for s in p["chosen_ids"]]
        assert p["chosen_seeds"] == [samples[s]["seed"] for s in p["chosen_ids"]]
    record = DatasetFolder(built).config_record("pairs")
    assert record is not None and record["counts"]["prompts"]["train"]["kept"] == len(pairs)


def test_load_dataset_and_decode_video(built: Path) -> None:
    from datasets import Video, load_dataset

    samples = load_dataset(str(built), "samples", split="train")
    pairs = load_dataset(str(built), "pairs", split="train")
    assert len(samples) == 40 and len(pairs) >= 1
    decoder = samples[0]["video"]
    frames = decoder.get_frames_in_range(0, 32).data
    assert tuple(frames.shape) == (32, 3, 64, 96)
    raw = samples.cast_column("video", Video(decode=False))[0]["video"]
    assert raw["bytes"][4:8] == b"ftyp" and raw["path"].endswith(".mp4")
    card = (built / "README.md").read_text()
    assert "config_name: samples" in card and "config_name: pairs" in card
    assert "Correctness@τ" in card and (built / "assets" / "samples_correctness.png").exists()


def test_two_shards_merged_equal_single_build(tmp_path: Path) -> None:
    prompts = write_prompts(tmp_path / "prompts", prompt_records(2))
    single = build_videos(_config(tmp_path / "one", prompts, samples_per_prompt=5))
    a = build_videos(
        _config(tmp_path / "two", prompts, samples_per_prompt=5, num_shards=2, shard_index=0)
    )
    assert a.merged is None and a.total == 5
    b = build_videos(
        _config(tmp_path / "two", prompts, samples_per_prompt=5, num_shards=2, shard_index=1)
    )
    assert b.merged is not None and single.merged is not None
    assert _table(tmp_path / "one", "samples") == _table(tmp_path / "two", "samples")
    assert _table(tmp_path / "one", "pairs") == _table(tmp_path / "two", "pairs")


def test_shard_from_torchrun_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from dsr.builders.work import ShardSpec, resolve_shard, slice_items

    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert resolve_shard() == ShardSpec(2, 3, 1)
    assert resolve_shard(2, 0) == ShardSpec(0, 2, 1)
    items = [(p, s) for p in "abc" for s in range(4)]
    parts = [slice_items(items, ShardSpec(i, 3)) for i in range(3)]
    assert sorted(x for part in parts for x in part) == sorted(items)
    assert not set(parts[0]) & set(parts[1])
    whole = [slice_items(items, ShardSpec(i, 2), whole_prompts=True) for i in range(2)]
    assert sorted(x for part in whole for x in part) == sorted(items)
    assert [sorted({p for p, _ in part}) for part in whole] == [
        ["a", "c"],
        ["b"],
    ]  # seeds stay together


def test_rerun_skips_finished_samples(tmp_path: Path) -> None:
    prompts = write_prompts(tmp_path / "prompts", prompt_records(1))
    first = build_videos(_config(tmp_path / "ds", prompts, samples_per_prompt=3))
    before = _table(tmp_path / "ds", "samples")
    again = build_videos(_config(tmp_path / "ds", prompts, samples_per_prompt=4))
    assert (first.built, again.built, again.skipped) == (3, 1, 3)
    after = _table(tmp_path / "ds", "samples")
    assert after[:3] == before and len(after) == 4


def test_frames_are_what_the_boxes_say(built: Path) -> None:
    from dsr.media import decode_video

    row = next(r for r in _table(built, "samples") if r["valid"])
    frames, fps = decode_video(row["video"]["bytes"])
    assert fps == 8
    t = row["key_frame"]
    x1, y1, x2, y2 = (int(round(v)) for v in row["object_boxes"][t])
    inside = frames[t, y1 : y2 + 1, x1 : x2 + 1].reshape(-1, 3).astype(int)
    outside = frames[t, :, : max(1, x1 - 20)].reshape(-1, 3).astype(int)
    assert (
        np.abs(inside.mean(0) - outside.mean(0)).sum() > 20
    )  # the object is drawn where its box is
