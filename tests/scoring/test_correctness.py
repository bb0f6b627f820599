"""Correctness@τ with invalid samples as failures, and the PNG plot helpers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from dsr.scoring import DEFAULT_THRESHOLDS, correctness, plot_correctness, plot_ssr_curves

PNG = b"\x89PNG\r\n\x1a\n"


def test_default_thresholds_are_the_papers() -> None:
    assert DEFAULT_THRESHOLDS == (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def test_invalid_samples_count_as_failures() -> None:
    curve = correctness([0.9, None, 0.5, math.nan, 0.7, 0.0])
    assert curve.n_samples == 6 and curve.n_invalid == 2
    assert curve.at(0.0) == pytest.approx(4 / 6)  # invalid fails even at τ = 0
    assert curve.at(0.7) == pytest.approx(2 / 6)  # a score equal to τ counts
    assert curve.at(0.9) == pytest.approx(1 / 6)
    assert list(curve.values) == sorted(curve.values, reverse=True)


def test_custom_thresholds_and_lookup() -> None:
    curve = correctness([0.2, 0.8], thresholds=[0.5, 1.0])
    assert curve.thresholds == (0.5, 1.0) and curve.values == (0.5, 0.0)
    with pytest.raises(KeyError, match="0.7"):
        curve.at(0.7)


def test_empty_input() -> None:
    curve = correctness([])
    assert curve.n_samples == 0 and set(curve.values) == {0.0}


def test_serialization_and_table() -> None:
    curve = correctness([0.75, None])
    data = curve.to_dict()
    assert data["correctness"][7] == 0.5 and data["n_invalid"] == 1
    head, row = curve.table().splitlines()
    assert head.split()[1:] == [
        "0.0",
        "0.1",
        "0.2",
        "0.3",
        "0.4",
        "0.5",
        "0.6",
        "0.7",
        "0.8",
        "0.9",
    ]
    assert row.split()[1] == "0.500"


def test_plots_write_png_files(tmp_path: Path) -> None:
    curve = correctness([0.75, None, 0.3])
    single = plot_correctness(curve, tmp_path / "a" / "curve.png", title="t")
    several = plot_correctness({"base": curve, "lora": correctness([0.9])}, tmp_path / "b.png")
    ssr = plot_ssr_curves(
        [0.5, None, -0.2], [0.1, 0.2, None], tmp_path / "ssr.png", initial="left", final="top"
    )
    for path in (single, several, ssr):
        assert path.read_bytes()[:8] == PNG
    assert not list(tmp_path.rglob(".*.tmp"))
