"""PNG plots of correctness curves (with interval bands, τ = 0.7 labelled) and of one video's two
SSR curves (prompt, key frame, frames without a score) — matplotlib, headless."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dsr.scoring.correctness import CorrectnessCurve
from dsr.staging import temp_prefix

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "HEADLINE_TAU",
    "Band",
    "correctness_figure",
    "plot_correctness",
    "plot_ssr_curves",
    "ssr_figure",
]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


#: The headline threshold, drawn and labelled in every correctness plot.
HEADLINE_TAU = 0.7
#: A band of a curve: the low and high end of its interval at each threshold (None: no interval).
Band = tuple[Sequence[float | None], Sequence[float | None]]


def _band(ax: Any, xs: Sequence[float], band: Band, color: Any) -> None:
    low = np.asarray([np.nan if v is None else v for v in band[0]], dtype=float)
    high = np.asarray([np.nan if v is None else v for v in band[1]], dtype=float)
    ax.fill_between(xs, low, high, color=color, alpha=0.18, linewidth=0)


def _tau_line(ax: Any) -> None:
    """The dotted τ = 0.7 line with its label at the top of the axes."""
    ax.axvline(HEADLINE_TAU, color="0.35", linestyle=":", linewidth=1.2)
    ax.annotate(
        f"τ = {HEADLINE_TAU}",
        xy=(HEADLINE_TAU, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(4, -4),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=9,
        color="0.2",
    )


def plot_correctness(
    curves: CorrectnessCurve | Mapping[str, CorrectnessCurve],
    path: str | Path,
    *,
    title: str = "",
    bands: Mapping[str, Band] | None = None,
    level: float = 0.95,
) -> Path:
    """Plot one curve, or several labelled ones, of Correctness@τ against τ, each with its interval
    band when ``bands`` has one (keyed like ``curves``; ``""`` for a single curve) and the τ = 0.7
    line labelled; returns the path."""
    return _save(correctness_figure(curves, title=title, bands=bands, level=level), path)


def correctness_figure(
    curves: CorrectnessCurve | Mapping[str, CorrectnessCurve],
    *,
    title: str = "",
    bands: Mapping[str, Band] | None = None,
    level: float = 0.95,
) -> Figure:
    """The figure of :func:`plot_correctness`."""
    plt = _pyplot()
    named = {"": curves} if isinstance(curves, CorrectnessCurve) else dict(curves)
    fig, ax = plt.subplots(figsize=(6, 4.2), dpi=120)
    for i, (label, curve) in enumerate(named.items()):
        (line,) = ax.plot(
            curve.thresholds,
            curve.values,
            marker="osD^v<>"[i % 7],
            linestyle=("-", "--", "-.", ":")[i % 4],
            label=label or "Correct@τ",
        )
        if bands and bands.get(label) is not None:
            _band(ax, curve.thresholds, bands[label], line.get_color())
    if bands:
        ax.fill_between(
            [], [], [], color="0.5", alpha=0.18, label=f"{round(100 * level)} % interval"
        )
    _tau_line(ax)
    ax.set(
        xlabel="threshold τ",
        ylabel="Correct@τ (share of all samples)",
        ylim=(-0.02, 1.02),
        title=title or "DSR correctness",
    )
    ax.grid(alpha=0.3)
    if any(named) or bands:
        ax.legend(loc="best", fontsize=9)
    return fig


def _gaps(values: np.ndarray) -> list[tuple[int, int]]:
    """Runs [start, end] of frames without a value."""
    runs, start = [], None
    for i, missing in enumerate(np.isnan(values)):
        if missing and start is None:
            start = i
        if not missing and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, values.size - 1))
    return runs


def plot_ssr_curves(
    ssr_initial: Sequence[float | None],
    ssr_final: Sequence[float | None],
    path: str | Path,
    *,
    initial: str = "initial",
    final: str = "final",
    title: str = "",
    prompt: str = "",
    key_frame: int | None = None,
) -> Path:
    """Plot the per-frame SSR scores of the initial and final relations: the prompt under the
    title, the key frame marked, and the frames without a score (a box missing or degenerate)
    shaded and named in the legend."""
    figure = ssr_figure(
        ssr_initial,
        ssr_final,
        initial=initial,
        final=final,
        title=title,
        prompt=prompt,
        key_frame=key_frame,
    )
    return _save(figure, path)


def ssr_figure(
    ssr_initial: Sequence[float | None],
    ssr_final: Sequence[float | None],
    *,
    initial: str = "initial",
    final: str = "final",
    title: str = "",
    prompt: str = "",
    key_frame: int | None = None,
) -> Figure:
    """The figure of :func:`plot_ssr_curves`."""
    import textwrap

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.0), dpi=120)
    arrays = [
        np.asarray([np.nan if v is None else v for v in vs], dtype=float)
        for vs in (ssr_initial, ssr_final)
    ]
    labels = (f"r(·, {initial}): initial relation", f"r(·, {final}): final relation")
    for arr, label, style in zip(arrays, labels, ("-", "--"), strict=True):
        ax.plot(np.arange(arr.size), arr, style, label=label)
    gaps = _gaps(arrays[0] + arrays[1]) if arrays[0].size == arrays[1].size else []
    for i, (a, b) in enumerate(gaps):
        ax.axvspan(
            a - 0.5,
            b + 0.5,
            color="0.85",
            zorder=0,
            label=None if i else "no score: a box missing\nor empty in these frames",
        )
    if key_frame is not None and key_frame >= 0:
        ax.axvline(
            key_frame, color="0.2", linestyle=":", linewidth=1.2, label=f"key frame ({key_frame})"
        )
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set(xlabel="frame", ylabel="SSR score r", ylim=(-1.05, 1.05))
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=11)
    if prompt:
        ax.set_title(
            "\n".join(textwrap.wrap(f"“{prompt}”", 95)), loc="left", fontsize=8.5, color="0.25"
        )
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return fig


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
