"""Correctness@τ (docs/method.md §4): the share of samples, invalid ones included, scoring at least
τ."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["DEFAULT_THRESHOLDS", "CorrectnessCurve", "correctness"]

#: τ = 0.0, 0.1, …, 0.9 as reported in the paper.
DEFAULT_THRESHOLDS: tuple[float, ...] = tuple(round(0.1 * k, 1) for k in range(10))


@dataclass(frozen=True)
class CorrectnessCurve:
    """Correctness at each threshold; invalid samples (score None/NaN) count as failures."""

    thresholds: tuple[float, ...]
    values: tuple[float, ...]
    n_samples: int
    n_invalid: int

    def at(self, threshold: float) -> float:
        """Correctness at one of the curve's thresholds (e.g. ``curve.at(0.7)``)."""
        for t, v in zip(self.thresholds, self.values, strict=True):
            if abs(t - threshold) < 1e-9:
                return v
        raise KeyError(f"threshold {threshold} is not on this curve ({self.thresholds})")

    def to_dict(self) -> dict[str, object]:
        return {
            "thresholds": list(self.thresholds),
            "correctness": list(self.values),
            "n_samples": self.n_samples,
            "n_invalid": self.n_invalid,
        }

    def table(self) -> str:
        """A two-line text table: thresholds, then correctness."""
        head = "tau     " + " ".join(f"{t:>5.1f}" for t in self.thresholds)
        row = "correct " + " ".join(f"{v:>5.3f}" for v in self.values)
        return f"{head}\n{row}"


def correctness(
    scores: Iterable[float | None], thresholds: Sequence[float] = DEFAULT_THRESHOLDS
) -> CorrectnessCurve:
    """Correctness@τ for every τ in ``thresholds``; ``None`` or NaN marks an invalid sample."""
    arr = np.asarray([np.nan if s is None else float(s) for s in scores], dtype=np.float64)
    n = int(arr.size)
    taus = tuple(float(t) for t in thresholds)
    if n == 0:
        return CorrectnessCurve(taus, tuple(0.0 for _ in taus), 0, 0)
    filled = np.where(np.isnan(arr), -np.inf, arr)
    values = tuple(float((filled >= t).sum() / n) for t in taus)
    return CorrectnessCurve(taus, values, n, int(np.isnan(arr).sum()))
