"""How the VLM judge's answers relate to the geometry: the paper's Figure 4 and a reliability table.

**Figure 4.** For the initial question, the samples are binned by r_init (the mean initial-relation
SSR over the first m usable frames, in [−1, 1]); for the final question by r_f. Each bin gives the
share of YES, NO and unparsable answers. ``bins`` equal bins cover [−1, 1]; bin ``i`` holds
``edge_i ≤ r < edge_{i+1}``, the last one also r = 1. Samples without a score (invalid) have no r
and are counted apart.

**Reliability.** A sample is judged *correct by the VLM* when both answers are YES, and *correct by
the geometry* when its DSR-Score is at least τ (an invalid sample never is, as in Correct@τ). Over
every judged sample: accuracy, precision and recall of the VLM against the geometry, and Cohen's
κ = (p_o − p_e) / (1 − p_e), with p_o the observed agreement and p_e the agreement expected from
the two marginal rates. Undefined values (no positive prediction, p_e = 1) are None.

Pure polars; no I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from dsr.judge.questions import NO, UNPARSABLE, YES

__all__ = [
    "TAUS",
    "Agreement",
    "BinShares",
    "JudgeAnalysis",
    "agreement",
    "analyze",
    "cohen_kappa",
    "format_analysis",
    "verdicts",
]

#: The thresholds of the reliability table (as the correctness curve's).
TAUS = tuple(round(0.1 * i, 1) for i in range(10))
#: question kind → the SSR component it is binned by (a column of ``samples``)
COMPONENT = {"initial": "r_init", "final": "r_final"}


@dataclass(frozen=True)
class BinShares:
    """One bin of Figure 4: [lo, hi), the answers in it and their shares."""

    lo: float
    hi: float
    n: int
    yes: float | None
    no: float | None
    unparsable: float | None


@dataclass(frozen=True)
class Agreement:
    """Both-YES against DSR-Score ≥ τ over ``n`` samples (tp: both, tn: neither)."""

    tau: float
    n: int
    tp: int
    fp: int
    fn: int
    tn: int
    accuracy: float | None
    precision: float | None
    recall: float | None
    kappa: float | None


@dataclass(frozen=True)
class JudgeAnalysis:
    """Figure 4 per question kind, the reliability table over τ, and the answer counts."""

    model: str
    tau: float
    bins: dict[str, list[BinShares]]
    unscored: dict[str, int]
    reliability: list[Agreement]
    answers: dict[str, dict[str, int]]

    def at(self, tau: float) -> Agreement:
        return next(a for a in self.reliability if abs(a.tau - tau) < 1e-9)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def cohen_kappa(tp: int, fp: int, fn: int, tn: int) -> float | None:
    """Cohen's κ of two binary raters from their 2 × 2 table (None when p_e = 1 or n = 0)."""
    n = tp + fp + fn + tn
    if n == 0:
        return None
    observed = (tp + tn) / n
    expected = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / n**2
    return None if expected == 1 else (observed - expected) / (1 - expected)


def agreement(predicted: list[bool], actual: list[bool], tau: float) -> Agreement:
    """The confusion table of ``predicted`` against ``actual`` and its rates."""
    pairs = list(zip(predicted, actual, strict=True))
    tp = sum(p and a for p, a in pairs)
    fp = sum(p and not a for p, a in pairs)
    fn = sum(a and not p for p, a in pairs)
    tn = len(pairs) - tp - fp - fn
    return Agreement(
        tau,
        len(pairs),
        tp,
        fp,
        fn,
        tn,
        _ratio(tp + tn, len(pairs)),
        _ratio(tp, tp + fp),
        _ratio(tp, tp + fn),
        cohen_kappa(tp, fp, fn, tn),
    )


def _bins(answers: pl.DataFrame, component: str, bins: int) -> list[BinShares]:
    edges = [-1.0 + 2.0 * i / bins for i in range(bins + 1)]
    scored = answers.filter(pl.col(component).is_not_null())
    index = (
        ((scored[component].clip(-1.0, 1.0) + 1.0) / 2.0 * bins)
        .floor()
        .clip(0, bins - 1)
        .cast(pl.Int64)
    )
    scored = scored.with_columns(bin=index)
    out = []
    for i in range(bins):
        part = scored.filter(pl.col("bin") == i)["answer"].to_list()
        shares = [_ratio(part.count(a), len(part)) for a in (YES, NO, UNPARSABLE)]
        out.append(BinShares(edges[i], edges[i + 1], len(part), *shares))
    return out


def verdicts(judgments: pl.DataFrame) -> pl.DataFrame:
    """Per sample judged on both questions: ``both_yes`` and ``parsed`` (both answers yes or no)."""
    per_sample = judgments.group_by("sample_id").agg(
        kinds=pl.col("question_kind").n_unique(),
        yes=(pl.col("answer") == YES).sum(),
        parsed=pl.col("answer").is_in([YES, NO]).all(),
    )
    return per_sample.filter(pl.col("kinds") == 2).select(
        "sample_id", both_yes=pl.col("yes") == 2, yes_share=pl.col("yes") / 2, parsed="parsed"
    )


def analyze(
    judgments: pl.DataFrame, samples: pl.DataFrame, *, model: str, tau: float = 0.7, bins: int = 10
) -> JudgeAnalysis:
    """The analysis of one model's ``judgments`` rows against the ``samples`` they are about
    (columns sample_id, valid, dsr_score, r_init, r_final)."""
    scores = samples.select("sample_id", "valid", "dsr_score", "r_init", "r_final")
    rows = judgments.join(scores, on="sample_id", how="inner")
    figure: dict[str, list[BinShares]] = {}
    unscored: dict[str, int] = {}
    counts: dict[str, dict[str, int]] = {}
    for kind, component in COMPONENT.items():
        answers = rows.filter(pl.col("question_kind") == kind).select("answer", component)
        figure[kind] = _bins(answers, component, bins)
        unscored[kind] = int(answers[component].is_null().sum())
        counts[kind] = {a: int((answers["answer"] == a).sum()) for a in (YES, NO, UNPARSABLE)}
    judged = verdicts(judgments).join(scores, on="sample_id", how="inner").sort("sample_id")
    predicted = judged["both_yes"].to_list()
    geometry = judged.with_columns(
        s=pl.col("dsr_score").fill_null(-1.0), v=pl.col("valid").fill_null(False)
    )
    table = [
        agreement(
            predicted,
            [bool(v and s >= t) for v, s in zip(geometry["v"], geometry["s"], strict=True)],
            t,
        )
        for t in sorted({*TAUS, tau})
    ]
    return JudgeAnalysis(model, tau, figure, unscored, table, counts)


def _fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "  –  "
    return f"{100 * x:4.0f}%" if pct else f"{x:6.3f}"


def format_analysis(analysis: JudgeAnalysis) -> str:
    """The analysis as plain-text tables (Figure 4's shares, then the reliability over τ)."""
    lines = [
        f"Figure 4 ({analysis.model}): answers per bin of r_init (initial question) and r_f "
        "(final question)",
        "  bin              initial: n   YES    NO  unp.   final: n   YES    NO  unp.",
    ]
    for first, last in zip(analysis.bins["initial"], analysis.bins["final"], strict=True):
        cells = "".join(
            f"{b.n:>11} {_fmt(b.yes, True)} {_fmt(b.no, True)} {_fmt(b.unparsable, True)}"
            for b in (first, last)
        )
        lines.append(f"  [{first.lo:+.1f}, {first.hi:+.1f}){cells}")
    lines.append(
        f"  without a score (invalid samples): initial {analysis.unscored['initial']}, final "
        f"{analysis.unscored['final']}"
    )
    lines.append("Reliability of 'both YES' against DSR-Score >= tau")
    lines.append("    tau      n  accuracy  precision  recall   kappa")
    for a in analysis.reliability:
        mark = " <" if abs(a.tau - analysis.tau) < 1e-9 else ""
        lines.append(
            f"  {a.tau:5.2f} {a.n:6d}    {_fmt(a.accuracy)}     {_fmt(a.precision)}  "
            f"{_fmt(a.recall)}  {_fmt(a.kappa)}{mark}"
        )
    return "\n".join(lines)
