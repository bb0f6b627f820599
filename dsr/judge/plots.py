"""The judge's figure: the paper's Figure 4 (YES/NO shares per bin of r_init and r_f) and the
reliability of "both YES" against DSR-Score ≥ τ over τ, in one PNG."""

from __future__ import annotations

from pathlib import Path

from dsr.judge.analysis import BinShares, JudgeAnalysis

# the headless backend and the atomic PNG write of the scoring plots
from dsr.scoring.plots import _pyplot, _save

__all__ = ["plot_judge"]

_COLOURS = {"yes": "#4c9f70", "no": "#c8553d", "unparsable": "#9e9e9e"}


def _shares_panel(ax, bins: list[BinShares], label: str) -> None:  # type: ignore[no-untyped-def]
    centres = [(b.lo + b.hi) / 2 for b in bins]
    width = (bins[0].hi - bins[0].lo) * 0.9
    bottom = [0.0] * len(bins)
    for answer, colour in _COLOURS.items():
        heights = [getattr(b, answer) or 0.0 for b in bins]
        ax.bar(centres, heights, width=width, bottom=bottom, color=colour, label=answer.upper())
        bottom = [x + h for x, h in zip(bottom, heights, strict=True)]
    for c, b in zip(centres, bins, strict=True):
        ax.text(c, 1.02, str(b.n), ha="center", va="bottom", fontsize=7)
    ax.set(xlabel=label, ylabel="share of answers", xlim=(-1.05, 1.05), ylim=(0, 1.12))


def plot_judge(analysis: JudgeAnalysis, path: str | Path) -> Path:
    """Write the figure of ``analysis`` to ``path`` (PNG) and return the path."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), dpi=110)
    _shares_panel(axes[0], analysis.bins["initial"], "r_init (initial question)")
    _shares_panel(axes[1], analysis.bins["final"], "r_f (final question)")
    axes[0].legend(loc="lower right", fontsize=7)
    taus = [a.tau for a in analysis.reliability]
    for name in ("accuracy", "precision", "recall", "kappa"):
        values = [getattr(a, name) for a in analysis.reliability]
        axes[2].plot(
            taus, [float("nan") if v is None else v for v in values], marker="o", label=name
        )
    axes[2].axvline(analysis.tau, color="grey", linestyle=":", linewidth=1)
    axes[2].set(xlabel="τ (DSR-Score ≥ τ)", ylabel="both YES vs geometry", ylim=(-1.02, 1.02))
    axes[2].legend(fontsize=7)
    axes[2].grid(alpha=0.3)
    fig.suptitle(f"VLM judge {analysis.model}", fontsize=10)
    return _save(fig, path)
