"""A merge killed (SIGKILL) while it writes its parquet shards loses nothing: the work area, which
the merge reads straight into the shards (no staged copy), is untouched, no config is half
written, and the same command run again gives the dataset of a merge never killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from _videos_helpers import prompt_records, write_prompts
from click.testing import CliRunner

from dsr.builders.folder import DatasetFolder
from dsr.cli import main

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["--generator", "synthetic", "--tracker", "annotations", "--seeds", "0-2"]
ARGS += ["--generator-opt", "num_frames=24", "--generator-opt", "height=64"]
ARGS += ["--generator-opt", "width=96", "--generator-opt", "scenario=cycle"]


def _command(folder: Path, *extra: str) -> list[str]:
    return ["build-videos", "--prompts", str(folder), "--out", str(folder), *ARGS, *extra]


def _work_files(folder: Path) -> dict[str, bytes]:
    work = folder / ".dsr" / "videos"
    return {
        p.relative_to(work).as_posix(): p.read_bytes()
        for p in sorted(work.rglob("shard-*/*"))
        if p.suffix in (".json", ".mp4")
    }


def _kill_mid_merge(folder: Path) -> int:
    """Run the merge (one row per shard) in a process and kill it once its third shard file is
    written; returns the process's exit status."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    merge = [sys.executable, "-m", "dsr", *_command(folder, "--merge-only")]
    merge += ["--rows-per-shard", "1"]
    proc = subprocess.Popen(merge, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staging = folder / ".dsr" / "staging"
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        if any(staging.glob("samples~*/.train-00002.parquet")):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    return proc.wait(timeout=60)


@pytest.mark.slow  # a build and a merge in a subprocess; test_full_disk fails a merge by default
def test_a_merge_killed_while_writing_shards_resumes_to_the_same_dataset(tmp_path: Path) -> None:
    folder = write_prompts(tmp_path / "ds", prompt_records(2))
    built = CliRunner().invoke(main, _command(folder, "--no-merge"))
    assert built.exit_code == 0, built.output
    work_before = _work_files(folder)
    assert sum(name.endswith(".mp4") for name in work_before) == 6

    assert _kill_mid_merge(folder) == -signal.SIGKILL  # killed mid-merge, not finished
    assert _work_files(folder) == work_before  # the merge's input is all there
    assert not (folder / "samples").exists()
    assert DatasetFolder(folder).config_names() == ["prompts"]  # the card names no half config

    again = CliRunner().invoke(main, _command(folder, "--merge-only", "--rows-per-shard", "1"))
    assert again.exit_code == 0, again.output
    assert not any((folder / ".dsr" / "staging").iterdir())  # the killed merge's files are gone
    files = DatasetFolder(folder).data_files("samples", "train")
    assert len(files) == 6  # one row per shard
    rows = [r for f in files for r in pq.read_table(f, columns=["sample_id", "video"]).to_pylist()]
    mp4s = {name.rsplit("/", 1)[1]: data for name, data in work_before.items()}
    assert {r["sample_id"]: r["video"]["bytes"] for r in rows} == {
        name.removesuffix(".mp4"): data for name, data in mp4s.items() if name.endswith(".mp4")
    }
