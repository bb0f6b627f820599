"""``dsr train`` on a full disk: the checkpoint write fails in the middle of the run; the command
ends with one line naming the problem (no traceback), and the same command run again completes.

The full disk is made as in ``tests/builders/test_full_disk.py``: the command runs in a subprocess
whose RLIMIT_FSIZE caps every file it writes, so a write past the cap fails in the kernel (EFBIG),
as a write to a full device does (ENOSPC). The cap sits below the size of a checkpoint's files;
the latent cache is computed first, without a cap.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsr.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _args(tiny_wan: Path, dataset: Path, cache: Path, out: Path) -> list[str]:
    return [
        "train",
        "--output-dir",
        str(out),
        "--dataset",
        str(dataset),
        "--base-model",
        str(tiny_wan),
        "--cache-dir",
        str(cache),
        "--train-num-frames",
        "9",
        "--max-sequence-length",
        "16",
        "--effective-batch-size",
        "2",
        "--max-steps",
        "2",
        "--save-steps",
        "1",
        "--disable-tqdm",
        "true",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("cap", [12_000, 20_000], ids=["safetensors", "torch"])
def test_full_disk_during_training_is_one_line_and_a_rerun_completes(
    tiny_wan: Path, pairs_dataset: Path, tmp_path: Path, cap: int
) -> None:
    args = _args(tiny_wan, pairs_dataset, tmp_path / "cache", tmp_path / "run")
    cached = CliRunner().invoke(main, [*args, "--precompute-only"])
    assert cached.exit_code == 0, cached.output

    def full_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))

    failed = subprocess.run(
        [sys.executable, "-m", "dsr", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=full_disk,
        timeout=600,
        check=False,
    )
    assert failed.returncode == 1 and "Traceback" not in failed.stderr, failed.stderr
    (line,) = [x for x in failed.stderr.splitlines() if x.startswith("Error: ")]
    assert "File too large" in line or "the disk is probably full" in line, line
    assert "run the same command again" in line
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    assert "trained 2 steps" in again.output
