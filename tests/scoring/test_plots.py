"""What the PNG figures show, read back from the matplotlib figures before they are saved: the
τ = 0.7 line labelled, interval bands where given, and for a video's SSR curves the prompt, the key
frame and the frames without a score."""

from __future__ import annotations

from typing import Any

from dsr.scoring import correctness
from dsr.scoring.plots import correctness_figure, ssr_figure


def _texts(fig: Any) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


def test_correctness_plot_labels_tau_and_draws_the_band_it_is_given() -> None:
    curve = correctness([0.75, None, 0.3, 0.95])
    low = [v - 0.1 for v in curve.values]
    high = [min(1.0, v + 0.1) for v in curve.values]
    fig = correctness_figure(curve, title="base", bands={"": (low, high)})
    ax = fig.axes[0]
    assert "τ = 0.7" in _texts(fig) and ax.get_title() == "base"
    assert any(list(line.get_xdata()) == [0.7, 0.7] for line in ax.get_lines())
    band = next(c for c in ax.collections if len(c.get_paths()) and len(c.get_paths()[0].vertices))
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.min() == min(low) and ys.max() == max(high)
    several = correctness_figure({"a": curve, "b": correctness([0.9])})
    assert "τ = 0.7" in _texts(several) and {"a", "b"} <= set(_texts(several))


def test_ssr_plot_carries_the_prompt_marks_the_key_frame_and_explains_gaps() -> None:
    initial = [1.0, 0.9, None, None, 0.2, 0.0]
    final = [0.0, 0.1, None, None, 0.8, 1.0]
    prompt = "In a park, a fox is on the left of a rock, then the fox walks to the top of the rock."
    fig = ssr_figure(initial, final, initial="left", final="top", prompt=prompt, key_frame=1)
    ax = fig.axes[0]
    assert any(prompt in t.replace("\n", " ") for t in _texts(fig))
    assert any(list(line.get_xdata()) == [1, 1] for line in ax.get_lines())
    spans = [(p.get_x(), p.get_x() + p.get_width()) for p in ax.patches]
    assert spans == [(1.5, 3.5)]  # frames 2 and 3 have no score
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("no score") for t in legend) and "key frame (1)" in legend
