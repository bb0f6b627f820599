"""A sample without a readable frame has (0, 4) box arrays, as the card promises, for a plain
``datasets`` user; polars, pyarrow and our readers see the same (frames, 4) fixed-size boxes as
before, and a folder written in format 2 (boxes declared as lists) still reads."""

from __future__ import annotations

import io
import json
from fractions import Fraction
from pathlib import Path

import datasets
import numpy as np
import polars as pl
import pytest

from dsr.builders.folder import ConfigRecord, DatasetFolder
from dsr.builders.score_videos import ScoreVideosConfig, score_videos
from dsr.media import encode_video
from dsr.prompts import DSRPrompt
from dsr.report.rows import read_samples
from dsr.report.source import resolve_source

PROMPT = DSRPrompt("", "cat", "bench", "left", "right", "walks")
FRAMES = 12


def _zero_frame_mp4() -> bytes:
    """An mp4 whose video track holds no frame (decodes to 0 frames)."""
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as c:
        s = c.add_stream("libx264", rate=Fraction(8, 1))
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        c.start_encoding()
    return buf.getvalue()


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("empty-boxes")
    d = PROMPT.to_dict()
    row = {**{k: d[k] for k in ("prompt", "initial", "final", "dsr_type")}, "prompt_id": "p"}
    row.update(animal="cat", object="bench", verb="walks", scene="", split="test")
    prompts = DatasetFolder(root / "prompts")
    prompts.write_config(
        "prompts", {"test": datasets.Dataset.from_list([row])}, ConfigRecord("prompts", {})
    )
    videos = root / "videos"
    videos.mkdir()
    frames = np.full((FRAMES, 32, 32, 3), 90, dtype=np.uint8)
    (videos / "p_seed00.mp4").write_bytes(encode_video(frames, 8))
    (videos / "p_seed01.mp4").write_bytes(_zero_frame_mp4())
    config = ScoreVideosConfig(
        videos=str(videos), prompts=str(prompts.root), out=str(root / "out"), tracker="annotations"
    )
    result = score_videos(config)
    assert result.built == 2
    return root / "out"


def _by_id(ds: datasets.Dataset) -> dict[str, int]:
    return {sid: i for i, sid in enumerate(ds["sample_id"])}


def test_a_sample_without_frames_has_0x4_boxes_through_plain_datasets(scored: Path) -> None:
    ds = datasets.load_dataset(str(scored), "samples", split="test")
    ds = ds.remove_columns("video")  # rows without decoding their video (torchcodec)
    at = _by_id(ds)
    assert ds[at["p__seed01"]]["num_frames"] == 0  # the zero-frame mp4
    for fmt in ("numpy",):  # the torch formatter goes through the same arrays
        rows = ds.with_format(fmt)
        for column in ("animal_boxes", "object_boxes"):
            assert tuple(rows[at["p__seed01"]][column].shape) == (0, 4), (fmt, column)
            assert tuple(rows[at["p__seed00"]][column].shape) == (FRAMES, 4), (fmt, column)


def test_polars_and_the_report_still_read_fixed_size_boxes(scored: Path) -> None:
    folder = DatasetFolder(scored)
    df = pl.concat([pl.read_parquet(f) for f in folder.data_files("tracks", "test")])
    assert df.schema["animal_boxes"] == pl.List(pl.Array(pl.Float64, 4))
    lengths = dict(zip(df["sample_id"], df["animal_boxes"].list.len(), strict=True))
    assert lengths == {"p__seed00": FRAMES, "p__seed01": 0}
    rows = read_samples(resolve_source(str(scored)), "samples", ("test",))
    shapes = {s.row["sample_id"]: s.frames.animal_boxes.shape for s in rows.samples}
    assert shapes == {"p__seed00": (FRAMES, 4), "p__seed01": (0, 4)}


def test_a_format_2_folder_still_loads(scored: Path, tmp_path: Path) -> None:
    """The card of a format 2 folder declares the boxes as lists of 4 floats: the same files load,
    as lists (format 2 had no (0, 4) promise to keep)."""
    import shutil

    old = tmp_path / "old"
    shutil.copytree(scored, old, ignore=shutil.ignore_patterns(".dsr"))
    record = json.loads((old / "dsr_build.json").read_text())
    record["format_version"] = 2
    for name in ("samples", "tracks"):
        entry = record["configs"][name]
        entry["format_version"] = 2
        for feature in entry["dataset_info"]["features"]:
            if feature["name"] in ("animal_boxes", "object_boxes"):
                feature["list"] = {"list": "float64", "length": 4}
                del feature["dtype"]
    from dsr.cards import render_dataset_card

    (old / "dsr_build.json").write_text(json.dumps(record))
    (old / "README.md").write_text(render_dataset_card(record))
    ds = datasets.load_dataset(str(old), "tracks", split="test")
    assert isinstance(ds.features["animal_boxes"], datasets.List)
    at = _by_id(ds)
    assert np.asarray(ds.with_format("numpy")[at["p__seed00"]]["animal_boxes"]).shape == (
        FRAMES,
        4,
    )
    rows = read_samples(resolve_source(str(old)), "tracks", ("test",))
    assert {s.row["sample_id"]: s.frames.animal_boxes.shape for s in rows.samples} == {
        "p__seed00": (FRAMES, 4),
        "p__seed01": (0, 4),
    }
