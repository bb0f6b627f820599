"""Intervals of an evaluation's breakdowns, from its per-sample rows (``per_sample.parquet``).

``eval_results.json`` gives the correctness curve and the per-type numbers as points; the figures
of ``dsr eval`` and ``dsr report`` draw their intervals from here, with the evaluation's own
bootstrap (prompts resampled, its resamples, level and seed: :mod:`dsr.evaluation.bootstrap`).
Correct@τ counts every sample, an invalid one as a failure; the mean DSR-Score counts the valid
samples; a video metric counts the samples that have a value (docs/method.md §7).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dsr.errors import PromptParseError
from dsr.evaluation.bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_RESAMPLES,
    Interval,
    Ratio,
    bootstrap_interval,
)
from dsr.prompts import DSRType

__all__ = [
    "Bootstrap",
    "curve_intervals",
    "results_tau",
    "type_intervals",
    "type_name",
]

#: Statistics of a DSR type computed from the rows themselves (every other column is a video
#: metric: the mean of its values).
CORRECT, MEAN_SCORE = "correct@0.7", "mean_dsr_score"


@dataclass(frozen=True)
class Bootstrap:
    """How intervals are drawn: as the evaluation drew its own."""

    n_resamples: int = DEFAULT_RESAMPLES
    level: float = DEFAULT_LEVEL
    seed: int = 0

    @classmethod
    def of(cls, results: Mapping[str, Any]) -> Bootstrap:
        """The settings an ``eval_results.json`` records (the defaults where it records none)."""
        given = (results.get("settings") or {}).get("bootstrap") or {}
        return cls(
            int(given.get("n_resamples", DEFAULT_RESAMPLES)),
            float(given.get("level", DEFAULT_LEVEL)),
            int(given.get("seed", 0)),
        )

    def interval(self, prompts: Sequence[str], values: Sequence[float | None]) -> Interval:
        return bootstrap_interval(
            Ratio.of(prompts, values),
            n_resamples=self.n_resamples,
            level=self.level,
            seed=self.seed,
        )


def results_tau(results: Mapping[str, Any], tau: float) -> float:
    """τ as the evaluation compared scores with it: ``k · 0.1`` (0.7 → 0.7000000000000001) when its
    Correct@0.7 is the authors' variant, which holds the thresholds as ``np.arange(0, 1, 0.1)``."""
    block = (results.get("metrics") or {}).get(CORRECT) or {}
    variant = block.get("variant") or (results.get("variants") or {}).get(CORRECT)
    k = round(tau * 10)
    return k * 0.1 if variant == "authors" and abs(tau - k / 10) < 1e-9 else tau


def _score(row: Mapping[str, Any]) -> float | None:
    value = row.get("dsr_score")
    return float(value) if row.get("valid") and value is not None else None


def _passed(rows: Sequence[Mapping[str, Any]], tau: float) -> list[float | None]:
    return [float(s is not None and s >= tau) for s in map(_score, rows)]


def curve_intervals(
    rows: Sequence[Mapping[str, Any]], taus: Sequence[float], boot: Bootstrap
) -> list[Interval]:
    """The interval of Correct@τ for each τ of ``taus``."""
    prompts = [str(r["prompt_id"]) for r in rows]
    return [boot.interval(prompts, _passed(rows, tau)) for tau in taus]


def _column(rows: Sequence[Mapping[str, Any]], key: str, tau: float) -> list[float | None]:
    if key == CORRECT:
        return _passed(rows, tau)
    if key == MEAN_SCORE:
        return [_score(r) for r in rows]
    return [None if r.get(key) is None else float(r[key]) for r in rows]


def type_intervals(
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    boot: Bootstrap,
    tau: float = 0.7,
) -> dict[str, dict[str, Interval]]:
    """DSR type → key → interval, for ``correct@0.7`` (at ``tau``), ``mean_dsr_score`` and any
    video-metric column of the rows; each type's prompts are resampled on their own."""
    out: dict[str, dict[str, Interval]] = {}
    for code in sorted({str(r.get("dsr_type")) for r in rows}):
        part = [r for r in rows if str(r.get("dsr_type")) == code]
        prompts = [str(r["prompt_id"]) for r in part]
        out[code] = {k: boot.interval(prompts, _column(part, k, tau)) for k in keys}
    return out


def type_name(code: str) -> str:
    """``LT`` → ``left → top``, ``UF`` → ``under → front``, ``LTR`` → ``left → top → right``; an
    unknown code is returned as it is."""
    try:
        member = DSRType.coerce(code) if len(code) > 1 else None
    except PromptParseError:
        member = None
    return " → ".join(member.value) if member else code
