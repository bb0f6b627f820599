"""Resume: the build run as a subprocess, killed with SIGKILL once a given number of samples are
finished (so that every kill interrupts the build in the middle, whatever the machine's speed),
then completed, equals an uninterrupted build: no sample lost, none doubled."""

from __future__ import annotations

import math
import os
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
    return [
        sys.executable,
        "-c",
        "from dsr.cli import main; main()",
        "build-videos",
        "--prompts",
        str(prompts),
        "--out",
        str(out),
        "--generator",
        "synthetic",
        "--tracker",
        "annotations",
        "--samples-per-prompt",
        str(n),
        "--generator-opt",
        "num_frames=32",
        "--generator-opt",
        "height=96",
        "--generator-opt",
        "width=128",
        "--generator-opt",
        "scenario=cycle",
    ]


def _run(cmd: list[str]) -> None:
    """An uninterrupted build (or the one that completes a killed one), in this process: only the
    builds that are killed need a process of their own."""
    from click.testing import CliRunner

    from dsr.cli import main

    result = CliRunner().invoke(main, cmd[3:])
    assert result.exit_code == 0, result.output


def _nan_safe(value: object) -> object:
    """``value`` with NaN (an absent box) as a marker: NaN is unequal to itself."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, list):
        return [_nan_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _nan_safe(v) for k, v in value.items()}
    return value


def _rows(root: Path) -> list[dict]:
    files = DatasetFolder(root).data_files("samples", "train")
    return [_nan_safe(r) for f in files for r in pq.read_table(f).to_pylist()]


def _finished(out: Path) -> int:
    """Samples committed to the work area (their json row is written last)."""
    return len(
        [p for p in out.glob(".dsr/videos/train/shard-*/*.json") if not p.name.startswith(".")]
    )


def _kill_when_finished(cmd: list[str], out: Path, count: int, timeout: float = 240.0) -> int:
    """Start the build, SIGKILL it as soon as ``count`` samples are finished; returns how many
    were finished when it died."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while _finished(out) < count:
            assert proc.poll() is None, f"the build ended before {count} samples were finished"
            assert time.monotonic() < deadline, f"no {count} finished samples within {timeout} s"
            time.sleep(0.02)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    return _finished(out)


def _kill_and_resume(tmp_path: Path, prompts: Path, n: int, kill_at: list[int]) -> None:
    reference = tmp_path / "reference"
    _run(_cmd(prompts, reference, n))
    total = len(_rows(reference))
    out = tmp_path / "killed"
    at_kill = [_kill_when_finished(_cmd(prompts, out, n), out, count) for count in kill_at]
    # every kill stopped a build half-way, and no finished sample was lost by the next one
    assert all(want <= got < total for want, got in zip(kill_at, at_kill, strict=True)), (
        kill_at,
        at_kill,
    )
    assert at_kill == sorted(at_kill)
    _run(_cmd(prompts, out, n))
    expected, got = _rows(reference), _rows(out)
    assert [r["sample_id"] for r in got] == [r["sample_id"] for r in expected]
    assert len({r["sample_id"] for r in got}) == len(got) == total
    assert got == expected, "a resumed build must equal an uninterrupted one"


def test_kill_and_resume(tmp_path: Path) -> None:
    prompts = write_prompts(tmp_path / "prompts", prompt_records(4))
    _kill_and_resume(tmp_path, prompts, n=8, kill_at=[3, 12, 25])  # of 32 samples


@pytest.mark.slow
def test_kill_and_resume_many_times(tmp_path: Path) -> None:
    prompts = write_prompts(tmp_path / "prompts", prompt_records(12))
    _kill_and_resume(tmp_path, prompts, n=10, kill_at=[1, 10, 25, 40, 55, 70, 90, 115])  # of 120
