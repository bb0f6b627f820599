"""The figures of ``dsr eval``: ``correctness.png`` (Correct@τ with its interval band, τ = 0.7
labelled) and ``per_type.png`` (Correct@0.7 and the mean DSR-Score per DSR type with their
intervals and n), both titled with the model's name (``--name``).

The intervals are those of :mod:`dsr.evaluation.breakdown`: the evaluation's own bootstrap over
prompts, drawn from the per-sample rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsr.evaluation.breakdown import (
    CORRECT,
    MEAN_SCORE,
    Bootstrap,
    curve_intervals,
    results_tau,
    type_intervals,
    type_name,
)
from dsr.evaluation.layout import CURVE_PNG, TYPES_PNG

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["curve_figure", "per_type_figure", "plot_curve", "plot_figures", "plot_per_type"]

#: The two bars of each type: key, legend label, colour (Okabe–Ito blue and orange), hatch.
_BARS = (
    (CORRECT, "Correct@0.7 (all samples)", "#0072b2", ""),
    (MEAN_SCORE, "mean DSR-Score (valid samples)", "#e69f00", "//"),
)


def plot_figures(
    results: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], out: Path
) -> list[Path]:
    """Write both figures of an evaluation into ``out``."""
    return [
        plot_curve(results, rows, out / CURVE_PNG),
        plot_per_type(results, rows, out / TYPES_PNG),
    ]


def plot_curve(results: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Correct@τ over τ with its bootstrap band."""
    from dsr.scoring.plots import _save

    return _save(curve_figure(results, rows), path)


def curve_figure(results: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> Figure:
    """The figure of :func:`plot_curve`."""
    from dsr.scoring.correctness import CorrectnessCurve
    from dsr.scoring.plots import correctness_figure

    boot = Bootstrap.of(results)
    s = results["summary"]
    curve = CorrectnessCurve(
        tuple(float(t) for t in s["correctness"]),
        tuple(s["correctness"].values()),
        s["n_samples"],
        s["n_samples"] - s["n_valid"],
    )
    band = curve_intervals(rows, [results_tau(results, t) for t in curve.thresholds], boot)
    return correctness_figure(
        curve,
        title=f"{results['model']['name']}: Correct@τ",
        bands={"": ([i.low for i in band], [i.high for i in band])},
        level=boot.level,
    )


def _errors(values: Sequence[float], intervals: Sequence[Any]) -> list[list[float]]:
    """Matplotlib's [below, above] error lengths (0 where an interval is missing)."""
    below = [
        v - i.low if i.low is not None else 0.0 for v, i in zip(values, intervals, strict=True)
    ]
    above = [
        i.high - v if i.high is not None else 0.0 for v, i in zip(values, intervals, strict=True)
    ]
    return [below, above]


def _type_label(code: str, block: Mapping[str, Any]) -> str:
    n = block.get("n_samples")
    return f"{code}\n{type_name(code)}\nn = {n}" if n is not None else f"{code}\n{type_name(code)}"


def plot_per_type(
    results: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], path: Path
) -> Path:
    """Bars of Correct@0.7 and of the mean DSR-Score per DSR type (the paper's order), each with
    its bootstrap interval and value, n per type under its name, the legend beside the axes."""
    from dsr.scoring.plots import _save

    return _save(per_type_figure(results, rows), path)


def per_type_figure(results: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> Figure:
    """The figure of :func:`plot_per_type`."""
    from dsr.scoring.plots import _pyplot

    plt = _pyplot()
    boot = Bootstrap.of(results)
    blocks = results["per_type"]
    types = list(blocks)
    drawn = type_intervals(rows, [CORRECT, MEAN_SCORE], boot, results_tau(results, 0.7))
    fig, ax = plt.subplots(figsize=(8.5, 4.4), dpi=120)
    width = 0.38
    for j, (key, label, color, hatch) in enumerate(_BARS):
        xs = [i + (j - 0.5) * width for i in range(len(types))]
        values = [blocks[t].get(key) or 0.0 for t in types]
        intervals = [drawn[t][key] for t in types]
        ax.bar(xs, values, width, label=label, color=color, hatch=hatch, edgecolor="white")
        ax.errorbar(
            xs,
            values,
            yerr=_errors(values, intervals),
            fmt="none",
            ecolor="0.15",
            elinewidth=1,
            capsize=3,
        )
        for x, v, i in zip(xs, values, intervals, strict=True):
            top = i.high if i.high is not None else v
            ax.annotate(
                f"{v:.2f}",
                (x, top),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
            )
    ax.set_xticks(range(len(types)), [_type_label(t, blocks[t]) for t in types], fontsize=8)
    ax.set_ylim(0, 1.12)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_ylabel("share / score (higher is better)")
    ax.set_xlabel("DSR type (n: samples of the type)")
    ax.set_title(f"{results['model']['name']}: per DSR type", loc="left", fontsize=11)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
        title=f"error bars: {round(100 * boot.level)} % interval",
        title_fontsize=8,
    )
    return fig
