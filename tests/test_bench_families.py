"""The families benchmark counts what it says: its LoRA count is rank × (in + out) over the
Linear modules the family's default targets name, on the tiny pipelines and on the real Wan2.1
1.3B built on the meta device, and its token count is the paper's 32,760 for 81×480×832."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_families as bench  # noqa: E402

RANK = 16  # dsr train's default --lora-rank


@pytest.fixture(scope="module")
def tiny_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny_families")
    return {name: bench.save_tiny(name, root / name, 2) for name in bench.FAMILIES}


def _load(name: str, folder: Path) -> Any:
    import diffusers

    cls = getattr(diffusers, bench.REAL[name].transformer_class)
    return cls.from_pretrained(folder, subfolder="transformer")


def _hand_lora(model: Any, patterns: tuple[str, ...]) -> tuple[int, int]:
    """(modules, rank × (in + out) summed) over the Linear modules whose full name matches."""
    linears = [
        mod
        for name, mod in model.named_modules()
        if isinstance(mod, torch.nn.Linear) and any(fnmatch.fnmatchcase(name, p) for p in patterns)
    ]
    return len(linears), sum(RANK * (m.in_features + m.out_features) for m in linears)


@pytest.mark.parametrize("name", bench.FAMILIES)
def test_tiny_lora_count_is_rank_times_in_plus_out(name: str, tiny_folders: dict) -> None:
    model = _load(name, tiny_folders[name])
    base = sum(p.numel() for p in model.parameters())
    modules, lora = _hand_lora(model, bench.family_targets(name))
    assert modules > 0 and lora > 0
    total, counted, targets = bench.count_parameters(model, name)
    assert (total, counted, len(targets)) == (base, lora, modules)


def test_tiny_wan_lora_by_hand(tiny_folders: dict) -> None:
    # width 16, text dim 16, 2 blocks: text_embedder.linear_1/2 and attn2.to_k/to_v of each
    # block, 6 modules of 16 → 16
    _, lora, _ = bench.count_parameters(_load("wan", tiny_folders["wan"]), "wan")
    assert lora == 6 * RANK * (16 + 16)


def test_real_wan_on_meta_device_matches_the_published_shapes() -> None:
    counts = bench.real_parameters("wan")
    # 30 blocks × (attn2.to_k + to_v: 1536 → 1536) + text_embedder 4096 → 1536 → 1536
    assert counts["lora"] == 30 * 2 * RANK * 3072 + RANK * (4096 + 1536) + RANK * 3072
    assert 1.3e9 < counts["total"] < 1.5e9 and counts["blocks"] == 30


def test_tokens_of_the_paper_clip() -> None:
    # 81 frames → 21 latent frames; 480×832 / (8 × 2) → 30 × 52 patches
    assert bench.tokens("wan") == (21 * 30 * 52, 0) == (32_760, 0)
    # LTX: 161 frames / 8 → 21; 480×704 / 32 → 15 × 22; patch 1
    assert bench.tokens("ltx") == (21 * 15 * 22, 0)
