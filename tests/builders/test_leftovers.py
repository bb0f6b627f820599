"""What a killed merge leaves (its locked staging folder, temporary files of atomic writes) is
removed by the next run; the staging folder of a merge still running is not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from _videos_helpers import prompt_records, write_prompts
from click.testing import CliRunner

from dsr.cli import main

ARGS = [
    "--generator",
    "synthetic",
    "--tracker",
    "annotations",
    "--seeds",
    "0",
    "--generator-opt",
    "num_frames=24",
    "--generator-opt",
    "height=48",
    "--generator-opt",
    "width=64",
]
ROOT = Path(__file__).resolve().parents[2]

#: A merge stand-in: opens a staging folder and writes a temporary file as a merge does, says
#: where, then waits to be killed.
HOLDER = """
import sys, time
from pathlib import Path
from dsr.builders.folder import DatasetFolder
from dsr.staging import temp_prefix
folder = DatasetFolder(sys.argv[1])
with folder.staging("samples") as staging:
    (staging / "part.parquet").write_bytes(b"half written")
    tmp = folder.root / (temp_prefix("README.md") + "x.tmp")
    tmp.write_text("half")
    print(staging, tmp, flush=True)
    time.sleep(600)
"""


def _holder(root: Path) -> tuple[subprocess.Popen[str], Path, Path]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root)], stdout=subprocess.PIPE, text=True, env=env
    )
    staging, tmp = (Path(p) for p in proc.stdout.readline().split())
    return proc, staging, tmp


def _age(*paths: Path) -> None:
    """Make the folders look a minute old (a fresh one may not be locked yet, and is left alone)."""
    past = time.time() - 60
    for path in paths:
        os.utime(path, (past, past))


def test_next_merge_removes_what_a_killed_merge_left(tmp_path: Path) -> None:
    root = write_prompts(tmp_path / "ds", prompt_records(1))
    built = CliRunner().invoke(
        main, ["build-videos", "--prompts", str(root), "--out", str(root), *ARGS, "--no-merge"]
    )
    assert built.exit_code == 0, built.output
    killed, killed_dir, killed_tmp = _holder(root)
    running, running_dir, running_tmp = _holder(root)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        _age(killed_dir, running_dir)
        merged = CliRunner().invoke(
            main, ["build-videos", "--prompts", str(root), "--out", str(root), "--merge-only"]
        )
        assert merged.exit_code == 0, merged.output
        assert not killed_dir.exists() and not killed_tmp.exists()
        assert running_dir.is_dir() and running_tmp.is_file()  # its process still works there
        staged = sorted(p.name for p in (root / ".dsr" / "staging").iterdir())
        assert staged == [running_dir.name]  # the merge's own staging folders are gone too
        assert len(list((root / "samples").glob("*.parquet"))) == 1
    finally:
        running.kill()
        running.wait(timeout=30)
