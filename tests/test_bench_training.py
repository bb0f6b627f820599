"""The training benchmark measures what it says: a forked child's peak memory is the memory it
allocated (not what it inherited from its parent), and the variants it compares compute the same
step (a variant that does not is refused)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_training as bench  # noqa: E402

MIB = 2**20


def _allocate(mib: int) -> int:
    # numpy, not torch: this test process may have run OpenMP threads, which a fork does not keep
    block = np.ones(mib * MIB, dtype=np.uint8)  # every page written, so resident
    return int(block.size)


def test_a_forked_child_counts_what_it_allocates_and_not_what_its_parent_holds() -> None:
    held = np.ones(256 * MIB, dtype=np.uint8)  # resident in the child too, from the fork on
    peak, size = bench.peak_rss_in_fork(_allocate, 96)
    assert size == 96 * MIB and held.all()
    assert 96 * MIB <= peak < 112 * MIB
    nothing, _ = bench.peak_rss_in_fork(int, 0)
    assert nothing < 8 * MIB


@pytest.fixture(scope="module")
def tiny() -> tuple[bench.Setup, dict[str, torch.Tensor]]:
    setup = bench.Setup("tiny", 960, 1, "cpu", torch.float32, checkpointing=True)
    return setup, bench.batch(setup)


def _first(name: str, setup: bench.Setup, b: dict, scale_b: float = 1.0) -> tuple[float, dict]:
    v = bench.build(name, setup)
    for n, p in v.model.named_parameters():
        if "lora_B" in n:
            p.data.mul_(scale_b)
    loss, grads, _ = bench.step(v, b, setup)
    return loss, grads


@pytest.mark.slow  # five tiny Wan models and four steps: ~10 s of CPU, more than a quick test
def test_every_variant_takes_the_authors_step_and_a_different_step_is_refused(
    tiny, monkeypatch
) -> None:
    from dsr.training.trainer import SpatialAlignTrainer

    calls: list[str] = []  # our variants are timed through the production compute_loss
    compute_loss = SpatialAlignTrainer.compute_loss

    def counted(self: SpatialAlignTrainer, *args: Any, **kwargs: Any) -> Any:
        calls.append(self.args.pair_forward)
        return compute_loss(self, *args, **kwargs)

    monkeypatch.setattr(SpatialAlignTrainer, "compute_loss", counted)
    setup, b = tiny
    first = {name: _first(name, setup, b) for name in bench.VARIANTS}
    assert calls == ["sequential", "batched"]
    bench.check_same_step(first, setup)
    # every LoRA weight (A and B) gets a gradient, so the comparison covers the whole adapter
    _, grads = first["authors"]
    assert len(grads) == sum(
        "lora_" in n for n, _ in bench.build("authors", setup).model.named_parameters()
    )
    assert all(float(g.abs().max()) > 0 for g in grads.values())
    first["ours-batched"] = _first("ours-batched", setup, b, scale_b=1.05)
    with pytest.raises(SystemExit, match="ours-batched"):
        bench.check_same_step(first, setup)
