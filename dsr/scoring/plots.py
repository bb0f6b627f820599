"""PNG plots of a correctness curve and of one video's two SSR curves (matplotlib, headless)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dsr.scoring.correctness import CorrectnessCurve
from dsr.staging import temp_prefix

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_correctness", "plot_ssr_curves"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_correctness(
    curves: CorrectnessCurve | Mapping[str, CorrectnessCurve], path: str | Path, *, title: str = ""
) -> Path:
    """Plot one curve, or several labelled ones, of Correctness@τ against τ; returns the path."""
    plt = _pyplot()
    named = {"": curves} if isinstance(curves, CorrectnessCurve) else dict(curves)
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=120)
    for label, curve in named.items():
        ax.plot(curve.thresholds, curve.values, marker="o", label=label or None)
    ax.axvline(0.7, color="grey", linestyle=":", linewidth=1)
    ax.set(
        xlabel="threshold τ",
        ylabel="Correctness@τ",
        ylim=(-0.02, 1.02),
        title=title or "DSR correctness",
    )
    ax.grid(alpha=0.3)
    if any(named):
        ax.legend()
    return _save(fig, path)


def plot_ssr_curves(
    ssr_initial: Sequence[float | None],
    ssr_final: Sequence[float | None],
    path: str | Path,
    *,
    initial: str = "initial",
    final: str = "final",
    title: str = "",
) -> Path:
    """Plot the per-frame SSR scores of the initial and final relations (gaps where unusable)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.5), dpi=120)
    for values, label in ((ssr_initial, f"r(·, {initial})"), (ssr_final, f"r(·, {final})")):
        arr = np.asarray([np.nan if v is None else v for v in values], dtype=float)
        ax.plot(np.arange(arr.size), arr, label=label)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set(xlabel="frame", ylabel="SSR score", ylim=(-1.05, 1.05), title=title)
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _save(fig: Figure, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    # named for this process (dsr.staging.temp_prefix): two merges never share one, and the next
    # run removes one that a killed process left
    tmp = out.with_name(temp_prefix(out.name) + "plot.tmp")
    try:
        fig.tight_layout()
        fig.savefig(tmp, format="png")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
        fig.clf()
        import matplotlib.pyplot as plt

        plt.close(fig)
    return out
