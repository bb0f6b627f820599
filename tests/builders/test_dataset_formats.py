"""The dataset as HF, torch and SQL users read it: a default config, card metadata, NaN boxes with
presence flags, typed settings, the video-free ``tracks`` config, ``chosen_ids`` in pairs, and
shards that mix the DSR types."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import datasets
import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
from _videos_helpers import TINY, prompt_records, write_prompts

from dsr.builders.consolidate import consolidate
from dsr.builders.folder import BUILD_RECORD, CARD, ConfigRecord, DatasetFolder
from dsr.builders.pairs import draw_pair, pair_ids
from dsr.builders.samples import SAMPLE_COLUMNS, build_sample, current_row, sample_features
from dsr.builders.videos import VideoBuildConfig, build_videos
from dsr.cards.render import size_category
from dsr.generation.synthetic import SyntheticGenerator
from dsr.prompts import parse_prompt
from dsr.scoring.tracks import read_tracks, score_rows

N_PROMPTS, N_SEEDS = 6, 10  # "cycle": seed s plays scenario s % 10, so every scenario appears


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("formats")
    prompts = write_prompts(root / "prompts", prompt_records(N_PROMPTS))
    config = VideoBuildConfig(
        prompts=str(prompts),
        out=str(root / "ds"),
        generator="synthetic",
        generator_options={**TINY, "scenario": "cycle"},
        tracker="annotations",
        samples_per_prompt=N_SEEDS,
    )
    assert build_videos(config).merged is not None
    return root / "ds"


def _files(folder: Path, config: str) -> list[Path]:
    return DatasetFolder(folder).data_files(config, "train")


def _card_yaml(folder: Path) -> dict:
    from huggingface_hub import DatasetCard

    return DatasetCard.load(folder / CARD).data.to_dict()


def _truth_presence(row: dict) -> tuple[list[bool], list[bool]]:
    """Presence of the animal and the object per frame, from the generator's own ground truth."""
    generator = SyntheticGenerator(**TINY, scenario="cycle")
    video = generator.generate(parse_prompt(row["prompt"]), [row["seed"]])[0]
    ann = video.annotations
    return (
        np.isfinite(ann.animal_boxes).all(axis=1).tolist(),
        np.isfinite(ann.object_boxes).all(axis=1).tolist(),
    )


def test_absent_frames_are_four_nan_with_presence_flags_and_torch_gives_frames_by_4(
    built: Path,
) -> None:
    import torch

    tracks = datasets.load_dataset(str(built), "tracks", split="train")
    rows = tracks.with_format("torch")
    absent_in: set[str] = set()
    for i, row in enumerate(tracks):
        animal, obj = rows[i]["animal_boxes"], rows[i]["object_boxes"]
        assert isinstance(animal, torch.Tensor) and animal.dtype.is_floating_point
        assert tuple(animal.shape) == tuple(obj.shape) == (row["num_frames"], 4)
        assert torch.isnan(animal).any(dim=1).tolist() == [not p for p in row["animal_present"]]
        assert torch.isnan(obj).any(dim=1).tolist() == [not p for p in row["object_present"]]
        if row["prompt_id"] == tracks[0]["prompt_id"]:  # one prompt's seeds play all ten scenarios
            animal_truth, object_truth = _truth_presence(row)
            assert row["animal_present"] == animal_truth and row["object_present"] == object_truth
            assert torch.isnan(animal).all(dim=1).tolist() == [not p for p in animal_truth]
            if not all(animal_truth) or not all(object_truth):
                absent_in.add(json.loads(row["generator_settings"])["scenario"])
    assert absent_in == {
        "object_missing",
        "leaves_frame",
        "flicker",
        "hidden_briefly",
    }  # the hiding scenarios
    loader = torch.utils.data.DataLoader(
        tracks.with_format("torch", columns=["animal_boxes", "animal_present"]), batch_size=8
    )
    batch = next(iter(loader))  # default_collate: every row stacks
    assert tuple(batch["animal_boxes"].shape) == (8, TINY["num_frames"], 4)


def test_stored_boxes_rescore_to_the_stored_score(built: Path) -> None:
    """`dsr score` reads the samples files (NaN + flags) back to the scores the build computed."""
    rows = [r for f in _files(built, "samples") for r in pq.read_table(f).to_pylist()]
    report = score_rows(list(read_tracks(_files(built, "samples")[0])))
    assert not report.errors
    by_id = {r["sample_id"]: r for r in rows}
    assert len(report.rows) == len(rows) and sum(r["valid"] for r in rows) > 0
    for out in report.rows:
        stored = by_id[out["sample_id"]]
        if stored["valid"]:
            assert out["dsr_score"] == pytest.approx(stored["dsr_score"])
        else:
            assert out["dsr_score"] is None


def test_load_dataset_without_a_config_name_gives_samples(built: Path) -> None:
    ds = datasets.load_dataset(str(built), split="train")
    assert len(ds) == N_PROMPTS * N_SEEDS and "video" in ds.column_names
    meta = _card_yaml(built)
    assert meta["language"] == ["en"]
    assert meta["size_categories"] == ["n<1K"]  # 60 rows
    assert [c["config_name"] for c in meta["configs"] if c.get("default")] == ["samples"]
    infos = {i["config_name"]: i for i in meta["dataset_info"]}
    assert set(infos) == {"samples", "tracks", "pairs"}
    assert infos["samples"]["splits"] == [
        {
            "name": "train",
            "num_bytes": infos["samples"]["splits"][0]["num_bytes"],
            "num_examples": N_PROMPTS * N_SEEDS,
        }
    ]
    assert [f["name"] for f in infos["tracks"]["features"]] == [
        c for c in SAMPLE_COLUMNS if c != "video"
    ]


def test_prompts_only_folder_defaults_to_prompts(tmp_path: Path) -> None:
    folder = write_prompts(tmp_path / "p", prompt_records(3))
    assert len(datasets.load_dataset(str(folder), split="train")) == 3
    assert [c["config_name"] for c in _card_yaml(folder)["configs"] if c.get("default")] == [
        "prompts"
    ]


@pytest.mark.parametrize(
    ("rows", "label"),
    [
        (0, "n<1K"),
        (999, "n<1K"),
        (1_000, "1K<n<10K"),
        (5_000, "1K<n<10K"),
        (10_000, "10K<n<100K"),
        (999_999, "100K<n<1M"),
        (2_000_000_000, "n>1B"),
    ],
)
def test_size_category_follows_the_hub_buckets(rows: int, label: str) -> None:
    assert size_category(rows) == label


def test_tracks_are_the_samples_rows_without_video(built: Path) -> None:
    samples = pl.concat([pl.read_parquet(f) for f in _files(built, "samples")]).sort("sample_id")
    tracks = pl.concat([pl.read_parquet(f) for f in _files(built, "tracks")]).sort("sample_id")
    assert "video" not in tracks.columns and set(tracks.columns) == set(samples.columns) - {"video"}
    assert tracks.equals(samples.drop("video").select(tracks.columns))
    assert tracks.schema["animal_boxes"] == pl.List(pl.Array(pl.Float64, 4))
    assert (
        sum(f.stat().st_size for f in _files(built, "tracks"))
        < sum(f.stat().st_size for f in _files(built, "samples")) / 3
    )
    sql = pl.SQLContext(tracks=tracks).execute(
        "SELECT dsr_type, COUNT(*) AS n FROM tracks GROUP BY dsr_type"
    )
    assert sorted(sql.collect().rows()) == sorted(
        (t, N_SEEDS) for t in ("LT", "TL", "RT", "LR", "TR", "RL")
    )


def test_score_and_encode_settings_are_structs(built: Path, tmp_path: Path) -> None:
    tracks = pl.concat([pl.read_parquet(f) for f in _files(built, "tracks")])
    assert tracks["score_settings"].struct.field("m").to_list() == [3] * len(tracks)
    assert tracks["score_settings"].struct.field("min_frames").to_list() == [20] * len(tracks)
    assert tracks["encode_settings"].struct.field("crf").to_list() == [18] * len(tracks)
    assert set(tracks["encode_settings"].struct.field("codec").to_list()) == {"libx264"}
    # an mp4 stored as given (score-videos) was not encoded by us: null settings, same schema
    mp4 = pq.read_table(_files(built, "samples")[0], columns=["video"]).to_pylist()[0]["video"][
        "bytes"
    ]
    from dsr.tracking import TRACKERS

    row = build_sample(prompt_records(1)[0], 0, mp4, TRACKERS.resolve("annotations")())
    assert row["encode_settings"] is None
    assert row["score_settings"] == {"m": 3, "min_frames": 20, "box_check": "positive"}
    datasets.Dataset.from_list([current_row(row)], features=sample_features())  # fits the schema


def test_pairs_name_their_id_lists_chosen_ids_and_the_format_is_3(built: Path) -> None:
    pairs = datasets.load_dataset(str(built), "pairs", split="train")
    assert {"chosen_ids", "rejected_ids", "chosen_seeds", "rejected_seeds"} <= set(
        pairs.column_names
    )
    assert not {"chosen", "rejected"} & set(pairs.column_names)
    record = json.loads((built / BUILD_RECORD).read_text())
    assert record["format_version"] == 3
    assert {name: c["format_version"] for name, c in record["configs"].items()} == dict.fromkeys(
        ("samples", "tracks", "pairs"), 3
    )


def test_format_1_pairs_rows_are_still_read() -> None:
    import random

    old = {"chosen": ["p__seed01"], "rejected": ["p__seed02", "p__seed03"]}
    assert pair_ids(old, "chosen") == ["p__seed01"] and pair_ids(old, "rejected") == [
        "p__seed02",
        "p__seed03",
    ]
    assert draw_pair(old, random.Random(0))[0] == "p__seed01"
    new = {"chosen_ids": ["a"], "rejected_ids": ["b"]}
    assert draw_pair(new, random.Random(0)) == ("a", "b")


def test_a_format_1_work_area_row_merges_into_the_current_schema(
    built: Path, tmp_path: Path
) -> None:
    legacy = {
        "animal_boxes": [[0, 0, 10, 10], None],
        "object_boxes": [None, [1, 1, 2, 2]],
        "score_settings": '{"m": 3, "min_frames": 20}',
        "encode_settings": "{}",
    }
    row = current_row(legacy)
    assert row["animal_present"] == [True, False] and row["object_present"] == [False, True]
    assert row["animal_boxes"][0] == [0, 0, 10, 10] and all(
        math.isnan(v) for v in row["animal_boxes"][1]
    )
    # rows from before the box check was a setting were scored with the positive check
    assert row["score_settings"] == {"m": 3, "min_frames": 20, "box_check": "positive"}
    assert row["encode_settings"] is None
    # end to end: one committed row rewritten as dsr 0.1 wrote it, then merged again
    import shutil

    folder = tmp_path / "old"
    shutil.copytree(built, folder)
    path = next(
        p for p in (folder / ".dsr" / "videos" / "train").rglob("*.json") if p.name != "build.json"
    )
    old = json.loads(path.read_text())
    boxes = [None if not all(map(math.isfinite, b)) else b for b in old["animal_boxes"]]
    old.update(
        animal_boxes=boxes, score_settings=json.dumps(old["score_settings"]), encode_settings="{}"
    )
    kept = {k: old.pop(k) for k in ("n_degenerate_frames", "deviations")}  # columns added since
    del old["animal_present"], old["object_present"]
    path.write_text(json.dumps(old))
    consolidate(DatasetFolder(folder), skip_if_unchanged=True)
    merged = (
        pl.concat([pl.read_parquet(f) for f in _files(folder, "tracks")])
        .filter(pl.col("sample_id") == old["sample_id"])
        .row(0, named=True)
    )
    assert merged["animal_present"] == [b is not None for b in boxes]
    assert merged["encode_settings"] is None and merged["score_settings"] == {
        "m": 3,
        "min_frames": 20,
        "box_check": "positive",
    }
    assert {k: merged[k] for k in kept} == kept


def test_rows_written_before_degenerate_frames_and_deviations_get_them_from_what_they_hold() -> (
    None
):
    def frame(*labels: str) -> list[dict]:
        return [{"label": label, "box": [0.0, 0.0, 1.0, 1.0], "score": 0.9} for label in labels]

    legacy = {
        "animal": "fox",
        "object": "stump",
        "animal_boxes": [[0, 0, 10, 10], [5, 5, 5, 9]],
        "object_boxes": [[1, 1, 2, 2], [1, 1, 2, 2]],
        "animal_present": [True, True],
        "object_present": [True, True],
        "detections": [frame("Foxes", "stump"), frame("fox", "stump")],
        "notes": json.dumps({"lost_track_frames": {"animal": [1]}}),
    }
    row = current_row(legacy)
    assert row["n_degenerate_frames"] == 1  # the zero-width animal box of frame 1
    assert row["deviations"] == [
        "label_match",
        "lost_track",
    ]  # "Foxes" matched only after normalization
    exact = current_row({**legacy, "detections": [frame("fox", "stump")] * 2, "notes": "{}"})
    assert (
        exact["deviations"] == [] and current_row({**legacy, "deviations": []})["deviations"] == []
    )


def test_big_splits_are_cut_under_the_byte_limit_and_every_file_mixes_the_types(
    tmp_path: Path,
) -> None:
    types = ["LT", "TL", "RT", "LR", "TR", "RL"]
    ds = datasets.Dataset.from_dict(
        {
            "sample_id": [f"{t}-{i}" for t in types for i in range(10)],
            "dsr_type": [t for t in types for _ in range(10)],
            "payload": [os.urandom(10_000) for _ in range(60)],
        }
    )  # sorted by type
    folder = DatasetFolder(tmp_path / "ds")
    folder.write_config(
        "samples", {"train": ds}, ConfigRecord(description="x", columns={}), max_shard_bytes=160_000
    )
    files = folder.data_files("samples", "train")
    assert len(files) == 4  # 600 kB of incompressible payload over ≤ 160 kB files
    ids = []
    for f in files:
        assert 120_000 < f.stat().st_size <= 160_000
        part = pq.read_table(f).to_pylist()
        assert {r["dsr_type"] for r in part} == set(types)
        ids += [r["sample_id"] for r in part]
    assert sorted(ids) == sorted(ds["sample_id"])


def test_a_tagged_push_loads_by_tag_without_a_config_name(built: Path, hub, hub_token) -> None:
    from dsr.hub import push_folder

    push_folder(built, "tester/formats", version="v1.0.0")
    ds = datasets.load_dataset("tester/formats", split="train", revision="v1.0.0")
    assert len(ds) == N_PROMPTS * N_SEEDS and "video" in ds.column_names
    tracks = datasets.load_dataset("tester/formats", "tracks", split="train", revision="v1.0.0")
    assert "video" not in tracks.column_names
    files = hub.files("tester/formats", "v1.0.0")
    assert any(name.startswith("tracks/") for name in files)
    assert tuple(tracks.with_format("torch")[0]["object_boxes"].shape) == (TINY["num_frames"], 4)
