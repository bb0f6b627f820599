"""A full disk during a build or a merge: one line naming the problem and the fix, no temporary or
staging files left, finished samples kept, and the same command run again completes with the same
result as a build that never failed.

How the full disk is made: the command runs in a subprocess whose RLIMIT_FSIZE caps every file it
writes; a write past the cap fails in the kernel with EFBIG ("File too large"), which reaches dsr
exactly as ENOSPC from a full device does (an OSError from a real write). A cap below the size of
one sample's JSON fails the build at its first sample; a cap above every sample file but below the
merged Arrow/parquet data fails the merge.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from _videos_helpers import prompt_records, write_prompts
from click.testing import CliRunner, Result

from dsr.cli import main

ARGS = [
    "--generator",
    "synthetic",
    "--tracker",
    "annotations",
    "--seeds",
    "0-1",
    "--generator-opt",
    "num_frames=32",
    "--generator-opt",
    "height=64",
    "--generator-opt",
    "width=96",
    "--generator-opt",
    "scenario=cycle",
]
ROOT = Path(__file__).resolve().parents[2]


def _dsr(
    folder: Path, *extra: str, max_file_bytes: int | None = None
) -> subprocess.CompletedProcess[str]:
    def cap() -> None:
        if max_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "dsr",
            "build-videos",
            "--prompts",
            str(folder),
            "--out",
            str(folder),
            *ARGS,
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=cap,
        timeout=300,
        check=False,
    )


def _dsr_here(folder: Path) -> Result:
    """The same command in this process (no file-size cap)."""
    return CliRunner().invoke(
        main, ["build-videos", "--prompts", str(folder), "--out", str(folder), *ARGS]
    )


def _error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return errors[0]


def _leftovers(folder: Path) -> list[Path]:
    staging = folder / ".dsr" / "staging"
    return [p for p in folder.rglob("*.tmp")] + (
        list(staging.iterdir()) if staging.is_dir() else []
    )


def _scores(folder: Path) -> list[tuple[str, float | None]]:
    df = pl.concat([pl.read_parquet(p) for p in sorted((folder / "samples").glob("*.parquet"))])
    return sorted(zip(df["sample_id"].to_list(), df["dsr_score"].to_list(), strict=True))


@pytest.fixture(scope="module")
def clean_build(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, float | None]]:
    folder = write_prompts(tmp_path_factory.mktemp("clean") / "ds", prompt_records(3))
    assert _dsr_here(folder).exit_code == 0
    return _scores(folder)


@pytest.mark.parametrize(("cap", "when"), [(8_000, "build"), (60_000, "merge")])
def test_full_disk_is_one_line_and_a_rerun_completes(
    tmp_path: Path, clean_build, cap: int, when: str
) -> None:
    folder = write_prompts(tmp_path / "ds", prompt_records(3))
    failed = _dsr(folder, max_file_bytes=cap)
    line = _error_line(failed)
    assert "File too large" in line and "run the same command again" in line
    assert _leftovers(folder) == []
    done = list((folder / ".dsr" / "videos" / "train").glob("shard-*/*.json"))
    if when == "build":
        assert ("seed00.mp4" in line or "seed00.json" in line) and not done, (
            line
        )  # names the file it could not write
    else:
        assert (
            len(done) == 6 and not (folder / "samples").exists()
        )  # every sample kept, no partial config
    again = _dsr_here(folder)
    assert again.exit_code == 0, again.output
    assert ("6 built" if when == "build" else "0 built, 6 already done") in again.output
    assert _scores(folder) == clean_build
    assert _leftovers(folder) == []
