"""The figures of ``dsr eval``, read back from the matplotlib figures: per_type.png with error bars
from the bootstrap intervals (computed here from the rows), n per type, a y-axis label, the legend
outside the axes, bars at 1.0 not clipped; correctness.png with its band; the model's name as
title."""

from __future__ import annotations

from typing import Any

import pytest

from dsr.evaluation.bootstrap import Ratio, bootstrap_interval
from dsr.evaluation.dsr_metrics import dsr_metrics, outcomes, per_type
from dsr.evaluation.plots import curve_figure, per_type_figure

SCORES = {  # prompt → (type, scores of its two seeds; None: invalid)
    "a": ("LT", (0.9, 0.8)),
    "b": ("LT", (0.95, 0.75)),
    "c": ("TL", (0.2, None)),
    "d": ("TL", (0.9, 0.5)),
    "e": ("TL", (0.72, 0.1)),
}


def _rows() -> list[dict[str, Any]]:
    return [
        {"prompt_id": p, "seed": s, "dsr_type": t, "valid": v is not None, "dsr_score": v}
        for p, (t, values) in SCORES.items()
        for s, v in enumerate(values)
    ]


def _results(rows: list[dict[str, Any]]) -> dict[str, Any]:
    samples = outcomes(rows)
    return {
        "model": {"name": "Wan2.1 + SpatialAlign"},
        "settings": {"bootstrap": {"n_resamples": 500, "level": 0.9, "seed": 1}},
        "summary": dsr_metrics(samples).to_dict(),
        "per_type": {c: m.to_dict() for c, m in per_type(samples).items()},
        "metrics": {},
    }


def _reference(rows: list[dict[str, Any]], code: str) -> tuple[float, float]:
    part = [r for r in rows if r["dsr_type"] == code]
    passed = [float(r["valid"] and r["dsr_score"] >= 0.7) for r in part]
    found = bootstrap_interval(
        Ratio.of([r["prompt_id"] for r in part], passed), n_resamples=500, level=0.9, seed=1
    )
    return found.low, found.high


def test_per_type_figure_has_error_bars_n_labels_and_room_above_one() -> None:
    rows = _rows()
    fig = per_type_figure(_results(rows), rows)
    ax = fig.axes[0]
    assert ax.get_title(loc="left").startswith("Wan2.1 + SpatialAlign") and ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0].split("\n") == ["LT", "left → top", "n = 4"] and labels[1].endswith("n = 6")
    assert ax.get_ylim()[1] > 1.05  # LT's Correct@0.7 is 1.0: its bar, error bar and value fit
    correct_bars = ax.containers[0]
    assert [round(b.get_height(), 6) for b in correct_bars] == [1.0, round(2 / 6, 6)]
    error_lines = next(c for c in ax.containers if hasattr(c, "lines")).lines[2][0]
    ends = [end for seg in error_lines.get_segments() for end in (seg[0][1], seg[1][1])]
    assert ends == pytest.approx([*_reference(rows, "LT"), *_reference(rows, "TL")])
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # beside the bars, never over them


def test_curve_figure_draws_the_band_and_is_titled_with_the_model() -> None:
    rows = _rows()
    fig = curve_figure(_results(rows), rows)
    ax = fig.axes[0]
    assert ax.get_title() == "Wan2.1 + SpatialAlign: Correct@τ"
    prompts = [r["prompt_id"] for r in rows]
    at_07 = [float(r["valid"] and r["dsr_score"] >= 0.7) for r in rows]
    ref = bootstrap_interval(Ratio.of(prompts, at_07), n_resamples=500, level=0.9, seed=1)
    band = next(c for c in ax.collections if len(c.get_paths()))
    vertices = band.get_paths()[0].vertices
    at = vertices[abs(vertices[:, 0] - 0.7) < 1e-9, 1]
    assert sorted(set(at.round(9))) == pytest.approx([ref.low, ref.high])
