"""``kill -9`` of a training process at a random moment, then the same command again: the run
resumes from the last complete checkpoint and ends with the adapter of an uninterrupted run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file


def _cmd(dataset: Path, out: Path, cache: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "dsr",
        "train",
        "--tiny",
        "--dataset",
        str(dataset),
        "--output-dir",
        str(out),
        "--cache-dir",
        str(cache),
        "--max-steps",
        "12",
        "--save-steps",
        "1",
        "--disable-tqdm",
        "--learning-rate",
        "0.01",
    ]


@pytest.mark.slow
def test_kill_9_then_rerun_equals_an_uninterrupted_run(pairs_dataset: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    straight = tmp_path / "straight"
    subprocess.run(
        _cmd(pairs_dataset, straight, cache), check=True, capture_output=True, timeout=300
    )
    killed = tmp_path / "killed"
    rng = random.Random(0)
    for _attempt in range(3):
        proc = subprocess.Popen(
            _cmd(pairs_dataset, killed, cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        target = rng.randint(2, 9)
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if (killed / f"checkpoint-{target}").exists():
                break
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    done = subprocess.run(
        _cmd(pairs_dataset, killed, cache), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (
        "trained 12 steps (resumed from checkpoint-" in done.stdout
        or "already trained" in done.stdout
    )
    a = load_file(str(straight / "pytorch_lora_weights.safetensors"))
    b = load_file(str(killed / "pytorch_lora_weights.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
