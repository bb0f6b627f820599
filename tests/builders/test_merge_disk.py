"""A merge states the free space it needs (the parquet files: the videos once more, plus a margin;
no staged copy of the videos) and refuses before writing anything when the disk cannot hold it."""

from __future__ import annotations

import shutil
from collections import namedtuple
from pathlib import Path

import pytest
from _videos_helpers import TINY, prompt_records

from dsr.builders.consolidate import consolidate
from dsr.builders.folder import ConfigRecord, DatasetFolder
from dsr.builders.videos import VideoBuildConfig, build_videos
from dsr.errors import DiskSpaceError

Usage = namedtuple("Usage", "total used free")


@pytest.fixture
def built(tmp_path: Path) -> Path:
    import datasets

    root = tmp_path / "ds"
    DatasetFolder(root).write_config(
        "prompts",
        {"train": datasets.Dataset.from_list(prompt_records(2, "train"))},
        ConfigRecord(description="test prompts", columns={}),
    )
    opts = {"generator_options": {**TINY, "scenario": "cycle"}, "seeds": (0, 1, 2)}
    build_videos(
        VideoBuildConfig(
            prompts=str(root), out=str(root), generator="synthetic", tracker="annotations", **opts
        )
    )
    return root


def _stamps(root: Path) -> dict[str, int]:
    files = [root / "README.md", root / "dsr_build.json", *root.glob("*/*.parquet")]
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in files}


def test_a_merge_the_disk_cannot_hold_is_refused_before_it_writes(built: Path, monkeypatch) -> None:
    videos = sum(p.stat().st_size for p in built.rglob("*.mp4"))
    assert videos > 0
    need = videos + (64 << 20)
    before = _stamps(built)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10 * need, 9 * need, need - 1))
    with pytest.raises(DiskSpaceError):
        consolidate(DatasetFolder(built))
    assert _stamps(built) == before
    assert sum(p.stat().st_size for p in built.rglob("*.mp4")) == videos  # the input is kept
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10 * need, 9 * need, need))
    result = consolidate(DatasetFolder(built))
    assert result.samples == {"train": 6}
