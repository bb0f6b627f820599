"""The overview page's data from stored rows and the build record: pure functions, no files.

Counts per split and DSR type, validity with reasons, Correctness@τ per split and per (split,
type) (:func:`dsr.scoring.correctness`: invalid samples count as failures), the histogram of the
DSR-Scores of valid samples, the build settings, the pairs summary and the eval metrics.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from dsr.builders.pairs import DEFAULT_TAU_TRAIN, DROP_REASONS, make_pairs
from dsr.evaluation.breakdown import type_name
from dsr.prompts import DSRType, PromptParseError, Relation
from dsr.scoring import correctness

__all__ = [
    "HISTOGRAM_BINS",
    "TYPE_ORDER",
    "build_settings",
    "histogram",
    "overview_data",
    "pairs_summary",
    "type_names",
]

#: Bins of the score histogram: 20 of width 0.05 over [0, 1] (1.0 falls in the last).
HISTOGRAM_BINS = 20
#: DSR types in the paper's order (A–F).
TYPE_ORDER = ("LT", "TL", "RT", "LR", "TR", "RL")
VALID = "valid"
#: Tooltip wordings that differ from the registry's (its prompt grammar says "on the top of").
_PHRASES = {"top": "on top of"}


def _phrase(relation: Relation) -> str:
    """How the tooltip states a relation ("on the left of", "under", "in front of")."""
    return _PHRASES.get(relation.value, relation.spec.static)


def type_names(code: str) -> dict[str, str]:
    """A DSR type code spelled out: ``name`` (left → top), ``title`` (a sentence for a tooltip)
    and the paper's ``letter`` (A–F; empty for the other types); an unknown code is only named."""
    try:
        member = DSRType.coerce(code) if len(code) > 1 else None
    except PromptParseError:
        member = None
    if member is None:
        return {"name": code, "title": f"DSR type {code}", "letter": ""}
    start, end = _phrase(member.initial), _phrase(member.final)
    via = "" if member.middle is None else f", passes {_phrase(member.middle)} it"
    paper = f" (the paper's type {member.letter})" if member.letter else ""
    return {
        "name": type_name(code),
        "title": f"{code}: the animal starts {start} the object{via} and ends {end} it{paper}",
        "letter": member.letter,
    }


def _score(row: Mapping[str, Any]) -> float | None:
    """The row's DSR-Score if it is valid and finite, else None (a failure at every τ)."""
    value = row.get("dsr_score")
    if not row.get("valid") or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _types(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    found = {str(r.get("dsr_type")) for r in rows}
    return [t for t in TYPE_ORDER if t in found] + sorted(found - set(TYPE_ORDER))


def _by_split(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Rows per split: train, then test, then any other split by name."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        out.setdefault(str(row.get("split")), []).append(row)
    return dict(sorted(out.items(), key=lambda kv: ({"train": 0, "test": 1}.get(kv[0], 2), kv[0])))


def histogram(scores: Sequence[float], bins: int = HISTOGRAM_BINS) -> list[int]:
    """Counts of ``scores`` in ``bins`` equal bins over [0, 1]; 1.0 counts in the last bin."""
    counts = [0] * bins
    for s in scores:
        counts[min(bins - 1, max(0, int(math.floor(s * bins))))] += 1
    return counts


def _split_summary(rows: Sequence[Mapping[str, Any]], videos: set[str] | None) -> dict[str, Any]:
    scores = [s for s in map(_score, rows) if s is not None]
    curve = correctness([_score(r) for r in rows])
    reasons = Counter(str(r.get("reason")) for r in rows if not r.get("valid"))
    return {
        "samples": len(rows),
        "valid": len(scores),
        "mean_score": sum(scores) / len(scores) if scores else None,
        "correct_0.7": curve.at(0.7),
        "curve": list(curve.values),
        "validity": {VALID: len(scores), **dict(sorted(reasons.items()))},
        "histogram": histogram(scores),
        "no_video": None
        if videos is None
        else sum(1 for r in rows if str(r.get("sample_id")) not in videos),
    }


def _per_type(rows: Sequence[Mapping[str, Any]], types: list[str]) -> dict[str, Any]:
    out = {}
    for t in types:
        part = [r for r in rows if str(r.get("dsr_type")) == t]
        if part:
            curve = correctness([_score(r) for r in part])
            out[t] = {
                "samples": len(part),
                "valid": sum(1 for r in part if _score(r) is not None),
                "correct_0.7": curve.at(0.7),
                "curve": list(curve.values),
            }
    return out


def pairs_summary(
    record: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], pairs: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Per split the prompts kept and dropped per reason: from the build record's ``pairs`` counts,
    else re-derived from the sample rows at the pairs' τ (0.7 without either)."""
    rec = (record.get("configs") or {}).get("pairs") or {}
    found = [(rec.get("settings") or {}).get("tau_train"), *(p.get("tau") for p in pairs)]
    tau = float(next((t for t in found if isinstance(t, (int, float))), DEFAULT_TAU_TRAIN))
    counts = (rec.get("counts") or {}).get("prompts")
    derived = counts is None
    if derived and rows:
        keep = (
            "sample_id",
            "prompt_id",
            "split",
            "prompt",
            "dsr_type",
            "seed",
            "valid",
            "dsr_score",
        )
        counts = make_pairs([{k: r.get(k) for k in keep} for r in rows], tau).counts
    return {
        "tau": tau,
        "counts": counts or {},
        "derived": derived,
        "rows": len(pairs),
        "reasons": [f"dropped_{r}" for r in DROP_REASONS],
        "present": bool(rec) or bool(pairs),
    }


def build_settings(record: Mapping[str, Any], config: str) -> dict[str, Any]:
    """What the build record says about how ``config`` was built: versions, command, settings."""
    rec = (record.get("configs") or {}).get(config) or {}
    return {
        "dsr_version": record.get("dsr_version"),
        "format_version": record.get("format_version"),
        "command": rec.get("command"),
        "settings": rec.get("settings") or {},
        "deviations": (rec.get("counts") or {}).get("deviations") or {},
        "present": bool(rec),
    }


def overview_data(
    rows: Sequence[Mapping[str, Any]],
    *,
    record: Mapping[str, Any],
    config: str,
    pairs: Sequence[Mapping[str, Any]],
    evaluation: Mapping[str, Any] | None = None,
    source: Mapping[str, Any] | None = None,
    problems: Sequence[str] = (),
    videos: set[str] | None = None,
) -> dict[str, Any]:
    """Everything the overview page shows; ``videos`` holds the ids of the samples with a video
    (None for a config without videos), ``evaluation`` the evaluation section
    (:func:`dsr.report.eval_results.eval_view`)."""
    types = _types(rows)
    splits = _by_split(rows)
    return {
        "source": dict(source or {}),
        "config": config,
        "thresholds": list(correctness([]).thresholds),
        "histogram_bins": HISTOGRAM_BINS,
        "types": types,
        "splits": {s: _split_summary(part, videos) for s, part in splits.items()},
        "per_type": {s: _per_type(part, types) for s, part in splits.items()},
        "build": build_settings(record, config),
        "pairs": pairs_summary(record, rows, pairs),
        "type_names": {t: type_names(t) for t in dict.fromkeys([*TYPE_ORDER, *types])},
        "eval": evaluation,
        "problems": list(problems),
    }
