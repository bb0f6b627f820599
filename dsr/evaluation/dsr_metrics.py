"""The DSR metrics of an evaluation, from stored sample rows only (no model, pure numpy).

A model's samples are rows of a ``samples`` (or ``tracks``) config: one per (prompt, seed), with
``valid``, ``reason`` and ``dsr_score``. docs/method.md §7: Correct@τ is the share of ALL samples
(invalid ones count as failures) whose DSR-Score is ≥ τ, for τ = 0.0, 0.1, …, 0.9 (headline τ =
0.7); with ``tau_variant="authors"`` each τ on that grid is the float the authors' ``np.arange(0, 1,
0.1)`` holds (k · 0.1: 0.30000000000000004, 0.6000000000000001, 0.7000000000000001), so a score of
exactly 0.7 fails their Correct@0.7. The
mean DSR-Score is over the valid samples only; the validity rate is the share of valid samples,
and each invalid sample is counted under its reason. Every metric is also given per DSR type, in
the paper's order LT, TL, RT, LR, TR, RL (A–F).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dsr.errors import DataError, PromptParseError
from dsr.prompts import DSRType
from dsr.scoring.correctness import DEFAULT_THRESHOLDS, CorrectnessCurve, correctness

__all__ = [
    "HEADLINE_TAU",
    "DSRMetrics",
    "SampleOutcome",
    "authors_threshold",
    "dsr_metrics",
    "headline_tau",
    "outcomes",
    "per_type",
    "type_key",
]

#: The threshold of the paper's headline number, Correct@0.7.
HEADLINE_TAU = 0.7
#: DSR type codes in the paper's order (A–F).
TYPE_ORDER = tuple(t.code for t in DSRType)


def type_key(code: str) -> tuple[int, ...]:
    """Sort key of a DSR type code: the paper's six in A–F order, then the other types in the
    relations' registry order (docs/method.md §8), then codes that name no type."""
    try:
        found = DSRType.coerce(code) if len(code) > 1 else None
    except PromptParseError:
        found = None
    return (99,) if found is None else found.order


@dataclass(frozen=True)
class SampleOutcome:
    """What the DSR metrics need of one sample."""

    prompt_id: str
    seed: int
    dsr_type: str
    valid: bool
    score: float | None
    reason: str | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.prompt_id, self.seed)


def _score(row: Mapping[str, Any]) -> float | None:
    value = row.get("dsr_score")
    if not row.get("valid") or value is None or not math.isfinite(float(value)):
        return None
    return float(value)


def outcomes(rows: Iterable[Mapping[str, Any]]) -> list[SampleOutcome]:
    """The outcome of every sample row; a row without ``prompt_id`` or ``seed`` is a DataError."""
    out = []
    for i, row in enumerate(rows):
        if row.get("prompt_id") in (None, "") or row.get("seed") is None:
            raise DataError(
                f"sample row {i} has no prompt_id or seed: evaluate a samples config built by dsr"
            )
        score = _score(row)
        out.append(
            SampleOutcome(
                str(row["prompt_id"]),
                int(row["seed"]),
                str(row.get("dsr_type") or ""),
                score is not None,
                score,
                None if score is not None else str(row.get("reason") or "unknown"),
            )
        )
    keys = Counter(o.key for o in out)
    dup = [k for k, n in keys.items() if n > 1]
    if dup:
        raise DataError(
            f"{len(dup)} (prompt_id, seed) pairs appear twice, e.g. {dup[0]}: evaluate one samples "
            "config of one split"
        )
    return out


@dataclass(frozen=True)
class DSRMetrics:
    """The DSR metrics of a set of samples (docs/method.md §7)."""

    n_samples: int
    n_prompts: int
    curve: CorrectnessCurve
    mean_score: float | None
    n_valid: int
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def validity_rate(self) -> float:
        return self.n_valid / self.n_samples if self.n_samples else 0.0

    def correct_at(self, tau: float = HEADLINE_TAU) -> float:
        return self.curve.at(tau)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_samples": self.n_samples,
            "n_prompts": self.n_prompts,
            "n_valid": self.n_valid,
            "validity_rate": self.validity_rate,
            "mean_dsr_score": self.mean_score,
            "correct@0.7": self.correct_at(HEADLINE_TAU)
            if any(abs(t - HEADLINE_TAU) < 1e-9 for t in self.curve.thresholds)
            else None,
            "correctness": dict(
                zip((f"{t:.1f}" for t in self.curve.thresholds), self.curve.values, strict=True)
            ),
            "invalid_reasons": dict(self.reasons),
        }


def authors_threshold(tau: float) -> float:
    """τ as the authors' ``np.arange(0, 1, 0.1)`` holds it: k · 0.1 for τ = k / 10 (0.7 →
    0.7000000000000001); any other τ unchanged."""
    k = round(tau * 10)
    return k * 0.1 if abs(tau - k / 10) < 1e-9 else tau


def headline_tau(tau_variant: str = "exact") -> float:
    """The threshold of Correct@0.7 in ``tau_variant`` (``exact`` or ``authors``)."""
    return authors_threshold(HEADLINE_TAU) if tau_variant == "authors" else HEADLINE_TAU


def _with_headline(thresholds: Sequence[float], tau_variant: str) -> tuple[float, ...]:
    taus = sorted({round(float(t), 6) for t in thresholds} | {HEADLINE_TAU})
    return tuple(authors_threshold(t) if tau_variant == "authors" else t for t in taus)


def dsr_metrics(
    samples: Sequence[SampleOutcome],
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    tau_variant: str = "exact",
) -> DSRMetrics:
    """Correct@τ curve (τ = 0.7 always included), mean DSR-Score of the valid samples, validity."""
    scores = [s.score for s in samples]
    valid = [s.score for s in samples if s.score is not None]
    reasons = Counter(s.reason or "unknown" for s in samples if s.score is None)
    return DSRMetrics(
        n_samples=len(samples),
        n_prompts=len({s.prompt_id for s in samples}),
        curve=correctness(scores, _with_headline(thresholds, tau_variant)),
        mean_score=float(np.mean(valid)) if valid else None,
        n_valid=len(valid),
        reasons=dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def per_type(
    samples: Sequence[SampleOutcome],
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    tau_variant: str = "exact",
) -> dict[str, DSRMetrics]:
    """:func:`dsr_metrics` of each DSR type present, in the paper's order, then the other types
    (:func:`type_key`; unknown codes last)."""
    codes = sorted({s.dsr_type for s in samples}, key=lambda c: (type_key(c), c))
    return {
        c: dsr_metrics([s for s in samples if s.dsr_type == c], thresholds, tau_variant)
        for c in codes
    }
