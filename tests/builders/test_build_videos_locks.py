"""Concurrent runs on one dataset folder: a second build of the same split, a build with another
shard count, and a second merge are refused at once, by OS locks that a kill -9 releases; legit
shards of one build still run side by side. And the order work is taken in: DSR
types interleaved."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _videos_helpers import TINY, prompt_records, write_prompts
from click.testing import CliRunner

from dsr.builders.folder import DatasetFolder
from dsr.builders.videos import VideoBuildConfig, build_videos
from dsr.builders.work import ShardSpec, WorkArea, slice_items, work_order
from dsr.cli import main
from dsr.errors import BusyError, ConfigError
from dsr.prompts import DSRType

#: Another process that claims a shard of a split (or the merge lock), says so, and waits.
HOLDER = """
import sys, time
from dsr.builders.folder import DatasetFolder
from dsr.builders.work import ShardSpec, WorkArea
work = WorkArea(DatasetFolder(sys.argv[1]))
what = sys.argv[2]
if what == "merge":
    held = work.merging()
else:
    index, count = map(int, sys.argv[3:5])
    held = work.claim(what, ShardSpec(index, count))
with held:
    print("held", flush=True)
    time.sleep(120)
"""


def _config(root: Path, **kw) -> VideoBuildConfig:
    opts = {
        "generator": "synthetic",
        "generator_options": {**TINY, "scenario": "cycle"},
        "tracker": "annotations",
        "seeds": (0, 1),
    }
    opts.update(kw)
    return VideoBuildConfig(prompts=str(root), out=str(root), **opts)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_prompts(tmp_path / "ds", prompt_records(2))


@pytest.fixture
def hold(folder: Path) -> Iterator:
    """Start a holder process: ``hold("train", 0, 1)`` or ``hold("merge")``; returns it."""
    procs: list[subprocess.Popen] = []

    def start(*args: object) -> subprocess.Popen:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), *sys.path]),
        }
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(folder), *map(str, args)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def _kill9(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def test_second_build_of_the_same_split_is_refused_at_once_and_kill9_frees_it(
    folder: Path, hold, monkeypatch
) -> None:
    holder = hold("train", 0, 1)

    def no_models(*_args):
        raise AssertionError("a refused run must not load its generator or tracker")

    start = time.monotonic()
    with monkeypatch.context() as patched:
        patched.setattr("dsr.builders.videos.make_components", no_models)
        with pytest.raises(
            BusyError, match=rf"shard 0 of 1 of the train samples .* in use by process {holder.pid}"
        ):
            build_videos(_config(folder))
    assert time.monotonic() - start < 5  # refused at once, not after waiting for the other build
    work = WorkArea(DatasetFolder(folder))
    assert work.build_record("train") is None and not work.finished(
        "train"
    )  # nothing recorded or built
    _kill9(holder)  # the kernel drops the dead holder's lock: no stale lock blocks the next run
    assert build_videos(_config(folder)).built == 4


def test_build_with_another_shard_count_is_refused_but_the_other_shard_runs(
    folder: Path, hold
) -> None:
    hold("train", 0, 2)
    with pytest.raises(
        BusyError, match="as shard 0 of 2: wait for it, or give this run --num-shards 2"
    ):
        build_videos(_config(folder))
    with pytest.raises(BusyError, match="shard 0 of 2"):
        build_videos(_config(folder, num_shards=2, shard_index=0))
    other = build_videos(_config(folder, num_shards=2, shard_index=1))
    assert (other.built, other.merged) == (2, None)  # shard 0 is not done: no merge yet


def test_other_settings_are_refused_while_another_shard_is_running(folder: Path, hold) -> None:
    work = WorkArea(DatasetFolder(folder))
    running = {
        "generator": {"name": "synthetic", "fps": 4},
        "tracker": {},
        "score": {},
        "encode": {},
    }
    work.record_build("train", running, "dsr build-videos --num-shards 2 --shard-index 0")
    holder = hold("train", 0, 2)  # shard 0 has recorded its settings but finished no sample yet
    with pytest.raises(ConfigError, match="other generator"):
        build_videos(_config(folder, num_shards=2, shard_index=1))
    assert work.build_record("train")["settings"] == running
    _kill9(holder)  # nobody builds with those settings any more, and no sample was made with them
    assert build_videos(_config(folder, num_shards=2, shard_index=1)).built == 2


def test_second_merge_is_refused_and_a_build_leaves_the_merge_to_it(folder: Path, hold) -> None:
    merging = hold("merge")
    built = build_videos(_config(folder))
    assert built.built == 4 and built.merged is None and not (folder / "samples").exists()
    result = CliRunner().invoke(
        main, ["build-videos", "--prompts", str(folder), "--out", str(folder), "--merge-only"]
    )
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert f"the merge of {folder} is in use by process {merging.pid}" in result.output
    _kill9(merging)
    again = CliRunner().invoke(
        main, ["build-videos", "--prompts", str(folder), "--out", str(folder), "--merge-only"]
    )
    assert again.exit_code == 0, again.output
    assert len(list((folder / "samples").glob("*.parquet"))) == 1


def test_score_videos_into_a_split_being_built_is_refused(
    folder: Path, hold, tmp_path: Path
) -> None:
    import numpy as np

    from dsr.builders.score_videos import ScoreVideosConfig, score_videos
    from dsr.media import encode_video

    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "train-000_seed00.mp4").write_bytes(
        encode_video(np.zeros((4, 16, 16, 3), dtype=np.uint8), 8)
    )
    holder = hold("train", 0, 1)
    config = ScoreVideosConfig(
        videos=str(videos), prompts=str(folder), out=str(folder), tracker="annotations"
    )
    with pytest.raises(BusyError, match=f"in use by process {holder.pid}"):
        score_videos(config)
    assert not WorkArea(DatasetFolder(folder)).finished("train")


# -- work order --------------------------------------------------------------------------------
def _typed_records(per_type: int) -> list[dict[str, str]]:
    """Records whose ids start with their type code, as real prompt ids do, listed type by type."""
    return [
        {"prompt_id": f"{t.code}-{k:03d}", "dsr_type": t.code}
        for t in DSRType
        for k in range(per_type)
    ]


def test_work_order_interleaves_the_types_in_the_papers_order() -> None:
    ids = [
        r["prompt_id"] for r in work_order(_typed_records(2)[::-1])
    ]  # input order does not matter
    assert ids == [
        "LT-000",
        "TL-000",
        "RT-000",
        "LR-000",
        "TR-000",
        "RL-000",
        "LT-001",
        "TL-001",
        "RT-001",
        "LR-001",
        "TR-001",
        "RL-001",
    ]


def test_uneven_types_and_unknown_codes_keep_every_prompt_once() -> None:
    records = [
        *_typed_records(1),
        {"prompt_id": "LT-009", "dsr_type": "LT"},
        {"prompt_id": "x-1", "dsr_type": ""},
    ]
    ids = [r["prompt_id"] for r in work_order(records)]
    assert ids == ["LT-000", "TL-000", "RT-000", "LR-000", "TR-000", "RL-000", "x-1", "LT-009"]


@pytest.mark.parametrize("whole_prompts", [False, True])
def test_every_shard_gets_every_type(whole_prompts: bool) -> None:
    order = [r["prompt_id"] for r in work_order(_typed_records(3))]
    items = [(pid, seed) for pid in order for seed in range(2)]
    for index in range(3):
        mine = slice_items(
            items, ShardSpec(index, 3), whole_prompts=whole_prompts, kind=lambda pid: pid[:2]
        )
        types = [pid[:2] for pid, _ in mine]
        assert {t: types.count(t) for t in set(types)} == {t.code: 2 for t in DSRType}


def test_limit_takes_one_prompt_of_each_type(tmp_path: Path) -> None:
    rows = prompt_records(12)
    for row in rows:  # real ids start with the type code, so id order groups the types
        row["prompt_id"] = f"{row['dsr_type']}-{row['prompt_id']}"
    prompts = write_prompts(tmp_path / "typed", rows)
    result = build_videos(_config(prompts, limit=6, seeds=(0,)))
    assert result.merged is not None and result.merged.samples == {"train": 6}
    import polars as pl

    samples = pl.concat(
        [pl.read_parquet(p, columns=["dsr_type"]) for p in (prompts / "samples").glob("*.parquet")]
    )
    assert sorted(samples["dsr_type"].to_list()) == sorted(t.code for t in DSRType)
