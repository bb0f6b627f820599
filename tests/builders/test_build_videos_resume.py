"""Resume: the build run as a subprocess, killed with SIGKILL at random moments, then completed,
equals an uninterrupted build: no sample lost, none doubled."""

from __future__ import annotations

import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from _videos_helpers import prompt_records, write_prompts

from dsr.builders.folder import DatasetFolder

ROOT = Path(__file__).resolve().parents[2]


def _cmd(prompts: Path, out: Path, n: int) -> list[str]:
    return [sys.executable, "-c", "from dsr.cli import main; main()", "build-videos", "--prompts", str(prompts), "--out", str(out),
            "--generator", "synthetic", "--tracker", "annotations", "--samples-per-prompt", str(n),
            "--generator-opt", "num_frames=32", "--generator-opt", "height=96", "--generator-opt", "width=128",
            "--generator-opt", "scenario=cycle"]


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, timeout=300)


def _nan_safe(value: object) -> object:
    """``value`` with NaN (an absent box) as a marker: NaN is unequal to itself."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, list):
        return [_nan_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _nan_safe(v) for k, v in value.items()}
    return value


def _rows(root: Path) -> list[dict]:  # type: ignore[type-arg]
    files = DatasetFolder(root).data_files("samples", "train")
    return [_nan_safe(r) for f in files for r in pq.read_table(f).to_pylist()]


def _kill_and_resume(tmp_path: Path, prompts: Path, n: int, kills: int, window: float) -> None:
    reference = tmp_path / "reference"
    _run(_cmd(prompts, reference, n))
    out = tmp_path / "killed"
    rng = random.Random(1234)
    finished_counts = []
    for _ in range(kills):
        proc = subprocess.Popen(_cmd(prompts, out, n), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, window))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        finished_counts.append(len(list((out / ".dsr" / "videos").glob("train/shard-*/*.json"))) if out.exists() else 0)
    _run(_cmd(prompts, out, n))
    expected, got = _rows(reference), _rows(out)
    assert [r["sample_id"] for r in got] == [r["sample_id"] for r in expected]
    assert len({r["sample_id"] for r in got}) == len(got)
    assert got == expected, "a resumed build must equal an uninterrupted one"
    assert finished_counts == sorted(finished_counts)  # finished samples are never lost


def test_kill_and_resume(tmp_path: Path) -> None:
    prompts = write_prompts(tmp_path / "prompts", prompt_records(4))
    _kill_and_resume(tmp_path, prompts, n=8, kills=3, window=3.0)


@pytest.mark.slow
def test_kill_and_resume_many_times(tmp_path: Path) -> None:
    prompts = write_prompts(tmp_path / "prompts", prompt_records(12))
    _kill_and_resume(tmp_path, prompts, n=10, kills=8, window=6.0)
