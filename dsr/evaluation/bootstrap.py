"""Uncertainty of an evaluation (which the paper does not report): bootstrap over PROMPTS.

The samples of one prompt (its seeds) are not independent, so a resample draws prompts with
replacement and keeps all samples of each drawn prompt together. Every statistic here is a ratio
of per-sample sums, ``Σ num / Σ den``: Correct@τ (num = 1 if score ≥ τ, den = 1), the mean
DSR-Score of valid samples (num = score, den = 1 if valid), the mean of a per-video metric
(num = value, den = 1 where the value exists). Intervals are percentile intervals.

:func:`paired_test` compares two models evaluated on the same prompts and seeds: the same prompt
resamples for both, the difference B − A per resample, and a two-sided p-value for "no
difference" from the resampled differences centred on the observed one,
``p = (1 + #{|d* − d| ≥ |d|}) / (1 + n_resamples)`` (1 for identical models).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from dsr.errors import ConfigError, DataError
from dsr.limits import MAX_RESAMPLES, check_max

__all__ = [
    "DEFAULT_RESAMPLES",
    "Interval",
    "PairedTest",
    "Ratio",
    "bootstrap_interval",
    "paired_test",
]

DEFAULT_RESAMPLES = 10_000
DEFAULT_LEVEL = 0.95


@dataclass(frozen=True)
class Ratio:
    """A statistic ``Σ num / Σ den`` over samples, each sample tagged with its prompt."""

    prompts: tuple[str, ...]
    num: np.ndarray
    den: np.ndarray

    def __post_init__(self) -> None:
        if not len(self.prompts) == len(self.num) == len(self.den):
            raise DataError(
                "a bootstrap statistic needs one prompt id, numerator and denominator per sample"
            )

    @classmethod
    def of(cls, prompts: Sequence[str], values: Sequence[float | None]) -> Ratio:
        """The mean of ``values`` over the samples that have one (None: no value)."""
        num = np.array([0.0 if v is None else float(v) for v in values])
        den = np.array([0.0 if v is None else 1.0 for v in values])
        return cls(tuple(prompts), num, den)

    def estimate(self) -> float | None:
        total = float(self.den.sum())
        return float(self.num.sum()) / total if total else None

    def per_prompt(self, order: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(Σ num, Σ den) of each prompt of ``order``."""
        index = {p: i for i, p in enumerate(order)}
        rows = np.array([index[p] for p in self.prompts], dtype=np.int64)
        return (
            np.bincount(rows, self.num, minlength=len(order)),
            np.bincount(rows, self.den, minlength=len(order)),
        )


@dataclass(frozen=True)
class Interval:
    """A point estimate with its bootstrap percentile interval."""

    estimate: float | None
    low: float | None
    high: float | None
    level: float
    n_resamples: int
    seed: int
    n_prompts: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PairedTest:
    """B − A on the same prompts and seeds, its interval and the p-value of "no difference"."""

    difference: float
    low: float
    high: float
    p_value: float
    level: float
    n_resamples: int
    seed: int
    n_prompts: int
    n_samples: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(n_resamples: int, level: float) -> None:
    if n_resamples < 1:
        raise ConfigError(
            f"n_resamples={n_resamples}: give at least 1 (default {DEFAULT_RESAMPLES})"
        )
    if not 0.0 < level < 1.0:
        raise ConfigError(f"level={level}: give a confidence level in (0, 1), e.g. 0.95")
    check_max("n_resamples", n_resamples, MAX_RESAMPLES, f"default {DEFAULT_RESAMPLES:,}")


def _resampled(num: np.ndarray, den: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The ratio of each resample (NaN where a resample has no denominator)."""
    top, bottom = num[draws].sum(axis=1), den[draws].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


def _draws(n_prompts: int, n_resamples: int, seed: int) -> np.ndarray:
    """Prompt indices of every resample, drawn with replacement (one row per resample)."""
    return np.random.default_rng(seed).integers(0, n_prompts, size=(n_resamples, n_prompts))


def _percentiles(values: np.ndarray, level: float) -> tuple[float | None, float | None]:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return None, None
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def bootstrap_interval(
    stat: Ratio,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Interval:
    """Percentile interval of ``stat`` over ``n_resamples`` prompt resamples drawn from ``seed``."""
    _check(n_resamples, level)
    order = sorted(set(stat.prompts))
    if not order:
        return Interval(None, None, None, level, n_resamples, seed, 0)
    num, den = stat.per_prompt(order)
    low, high = _percentiles(_resampled(num, den, _draws(len(order), n_resamples, seed)), level)
    return Interval(stat.estimate(), low, high, level, n_resamples, seed, len(order))


def paired_test(
    keys_a: Sequence[tuple[str, int]],
    stat_a: Ratio,
    keys_b: Sequence[tuple[str, int]],
    stat_b: Ratio,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> PairedTest:
    """Paired bootstrap of B − A over prompts; both models must hold the same
    (prompt_id, seed) samples."""
    _check(n_resamples, level)
    if set(keys_a) != set(keys_b) or len(keys_a) != len(keys_b):
        only_a, only_b = len(set(keys_a) - set(keys_b)), len(set(keys_b) - set(keys_a))
        raise DataError(
            f"the two evaluations hold different samples ({only_a} only in the first, {only_b} "
            "only in the second): evaluate both models on the same prompts and seeds "
            "for a paired test"
        )
    order = sorted(set(stat_a.prompts))
    num_a, den_a = stat_a.per_prompt(order)
    num_b, den_b = stat_b.per_prompt(order)
    est_a, est_b = stat_a.estimate(), stat_b.estimate()
    if est_a is None or est_b is None:
        raise DataError("a paired test needs at least one sample with a value in both evaluations")
    draws = _draws(len(order), n_resamples, seed)
    diffs = _resampled(num_b, den_b, draws) - _resampled(num_a, den_a, draws)
    observed = est_b - est_a
    finite = diffs[np.isfinite(diffs)]
    extreme = int((np.abs(finite - observed) >= abs(observed) - 1e-12).sum())
    low, high = _percentiles(diffs, level)
    return PairedTest(
        observed,
        float(low if low is not None else observed),
        float(high if high is not None else observed),
        (1 + extreme) / (1 + finite.size),
        level,
        n_resamples,
        seed,
        len(order),
        len(keys_a),
    )
