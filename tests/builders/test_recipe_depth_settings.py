"""A build recorded before the trackers had depth options resumes under today's tracker: the
depth settings did not exist, and no prompt of such a build could use depth. Any other tracker
change is still refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dsr.builders.folder import DatasetFolder
from dsr.builders.work import ShardSpec, WorkArea
from dsr.errors import ConfigError

# The tracker part of a grounded-sam2 build record written before the depth options existed.
OLD_TRACKER = {
    "name": "grounded-sam2",
    "detector": "IDEA-Research/grounding-dino-base",
    "box_threshold": 0.35,
}
NEW_DEPTH = {
    "depth_source": "model",
    "depth_model": "depth-anything/Depth-Anything-V2-Small-hf",
    "depth_revision": None,
    "depth_batch_size": 8,
    "depth_settings": {"model": "depth-anything/Depth-Anything-V2-Small-hf", "dtype": "float32"},
}


def _work_with_old_record(tmp_path: Path) -> WorkArea:
    work = WorkArea(DatasetFolder(tmp_path / "ds"))
    work.record_build(
        "train", {"tracker": OLD_TRACKER, "generator": {"name": "wan"}}, "dsr build-videos"
    )
    shard = work.shard_dir("train", ShardSpec())
    (shard / "train-000__seed0.json").write_text("{}")  # one finished sample
    assert work.finished("train") == {("train-000", 0)}
    return work


def test_old_build_without_depth_options_resumes(tmp_path: Path) -> None:
    work = _work_with_old_record(tmp_path)
    settings: dict[str, Any] = {
        "tracker": {**OLD_TRACKER, **NEW_DEPTH},
        "generator": {"name": "wan"},
    }
    work.check_recipe("train", settings, ["tracker", "generator"])  # no error


def test_another_tracker_change_is_still_refused(tmp_path: Path) -> None:
    work = _work_with_old_record(tmp_path)
    settings = {
        "tracker": {**OLD_TRACKER, **NEW_DEPTH, "box_threshold": 0.5},
        "generator": {"name": "wan"},
    }
    with pytest.raises(ConfigError):
        work.check_recipe("train", settings, ["tracker", "generator"])
