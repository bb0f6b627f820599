"""The paper-scale GPU benchmark runs end to end at its CPU size, so that its code is exercised
before a GPU is lent: every training variant trains, and the real pipeline class generates."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.mark.slow  # ~90 s on this shared machine, more than the 10 s of a quick test
def test_the_tiny_size_runs_every_variant_and_generates_a_video() -> None:
    from gpu_paper_scale import main

    results = main(["--size", "tiny", "--device", "cpu", "--steps", "1", "--gen-steps", "1"])
    steps = [r for r in results if r["what"] == "train step"]
    assert [r["variant"] for r in steps] == ["ours-batched", "ours-sequential", "authors"]
    # A fresh LoRA (B = 0) leaves policy and reference equal: margin 0, loss log 2, on every side.
    assert all(math.isclose(r["first_loss"], math.log(2), rel_tol=1e-6) for r in steps)
    assert all(r["step_s"] > 0 and r["max_memory_allocated_gib"] is None for r in steps)
    (video,) = [r for r in results if r["what"] == "generate one video"]
    assert video["frames"] == [9, 32, 48, 3] and video["seconds"] > 0
