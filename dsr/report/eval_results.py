"""The evaluation section of the report, from an ``eval_results.json`` (and the
``per_sample.parquet`` beside it, when there is one).

Results written by ``dsr eval`` are laid out as the paper lays them out (:func:`eval_view`): its
Table 2 (Correct@0.7, mean DSR-Score, ID consistency, CLIP-IQA, imaging quality, each with its
interval and n), a table per DSR type, the correctness curve with its interval band, and the
reasons samples were invalid. The JSON file itself is only linked. The intervals of the curve and
of the types come from the per-sample rows with the evaluation's own bootstrap settings
(:mod:`dsr.evaluation.breakdown`); without the rows they are left out and the page says why.
Metrics this module does not know (a newer ``dsr eval``) appear as further columns, labelled by
their key, and keys it does not know inside a metric (``variant``) are passed on or ignored.

A JSON of another layout falls back to :func:`metric_rows`, read without assuming more of it than
this: metrics are numbers, or objects holding a number (``value``, ``mean``, ``estimate``,
``point`` or ``score``) and perhaps an interval (``ci``/``interval``/``ci95`` as ``[low, high]`` or
``{low, high}``/``{lower, upper}``, or ``ci_low``/``ci_high`` beside the value), nested under any
names (model, split, DSR type, metric). Each such leaf becomes one table row named by its path;
versions and what is not a metric (settings, weights) are left out of the rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dsr.evaluation.bootstrap import Interval
from dsr.evaluation.breakdown import (
    Bootstrap,
    curve_intervals,
    results_tau,
    type_intervals,
    type_name,
)
from dsr.prompts import DSRType

__all__ = [
    "TABLE2",
    "MetricRow",
    "eval_view",
    "is_dsr_eval",
    "metric_keys",
    "metric_rows",
    "read_per_sample",
]

_VALUE_KEYS = ("value", "mean", "estimate", "point", "score")
_INTERVAL_KEYS = ("ci", "interval", "ci95", "confidence_interval", "bootstrap_ci")
_PAIRS = (("ci_low", "ci_high"), ("low", "high"), ("lower", "upper"), ("lo", "hi"))
#: Keys whose subtree describes how the numbers were made, not the numbers.
SETTINGS_KEYS = (
    "settings",
    "config",
    "weights",
    "versions",
    "command",
    "models",
    "dataset",
    "source",
    "meta",
)
#: More rows than this are cut (the JSON is still shown in full).
MAX_ROWS = 400


@dataclass(frozen=True)
class MetricRow:
    """One number of the results: where it sits, its value and its interval (if any)."""

    name: str
    value: float
    low: float | None = None
    high: float | None = None
    n: int | None = None
    integer: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _interval(node: Mapping[str, Any]) -> tuple[float | None, float | None]:
    for key in _INTERVAL_KEYS:
        ci = node.get(key)
        if isinstance(ci, (list, tuple)) and len(ci) == 2:
            return _number(ci[0]), _number(ci[1])
        if isinstance(ci, Mapping):
            for low, high in _PAIRS:
                if low in ci and high in ci:
                    return _number(ci[low]), _number(ci[high])
    for low, high in _PAIRS:
        if low in node and high in node:
            return _number(node[low]), _number(node[high])
    return None, None


def _metric(name: str, node: Any) -> MetricRow | None:
    value = _number(node)
    if value is not None:
        return MetricRow(name, value, integer=isinstance(node, int))
    if not isinstance(node, Mapping):
        return None
    for key in _VALUE_KEYS:
        value = _number(node.get(key))
        if value is not None:
            low, high = _interval(node)
            n = node.get("n") if isinstance(node.get("n"), int) else node.get("n_samples")
            return MetricRow(
                name,
                value,
                low,
                high,
                n if isinstance(n, int) and not isinstance(n, bool) else None,
            )
    return None


def metric_rows(results: Any, prefix: str = "", depth: int = 0) -> list[MetricRow]:
    """Every metric of ``results`` (see the module docstring), in document order."""
    rows: list[MetricRow] = []
    if depth > 6 or not isinstance(results, Mapping):
        return rows
    for key, node in results.items():
        if key in SETTINGS_KEYS or key in _INTERVAL_KEYS or "version" in str(key):
            continue
        name = f"{prefix} / {key}" if prefix else str(key)
        row = _metric(name, node)
        if row is not None:
            rows.append(row)
        elif isinstance(node, Mapping):
            rows += metric_rows(node, name, depth + 1)
        if len(rows) >= MAX_ROWS:
            return rows[:MAX_ROWS]
    return rows


#: The columns of the paper's Table 2 and ours, in the order shown: result key → label.
TABLE2: dict[str, str] = {
    "correct@0.7": "Correct@0.7",
    "mean_dsr_score": "mean DSR-Score",
    "id_consistency": "ID consistency",
    "clip_iqa_natural": "CLIP-IQA (natural)",
    "clip_iqa_quality": "CLIP-IQA (quality)",
    "imaging_quality": "Imaging quality",
}
#: How to measure a metric that an evaluation left out.
_HOW = {
    "id_consistency": "dsr eval --metrics ...,id",
    "clip_iqa_natural": "dsr eval --metrics ...,clip_iqa",
    "clip_iqa_quality": "dsr eval --metrics ...,clip_iqa",
    "imaging_quality": "dsr eval --metrics ...,iq --iq-weights PATH",
}
#: Keys of a per-type block that are counts or breakdowns, not columns of the per-type table.
_TYPE_KEYS = (
    "n_samples",
    "n_prompts",
    "n_valid",
    "validity_rate",
    "correctness",
    "invalid_reasons",
)


def is_dsr_eval(results: Any) -> bool:
    """Whether ``results`` has the layout ``dsr eval`` writes (metrics and a DSR summary)."""
    return (
        isinstance(results, Mapping)
        and isinstance(results.get("metrics"), Mapping)
        and isinstance(results.get("summary"), Mapping)
    )


def read_per_sample(path: Path, keys: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of a ``per_sample.parquet``: ids, DSR outcome and the metric columns of ``keys``
    that it holds. Raises OSError or ValueError (pyarrow's) for an unreadable file."""
    import pyarrow.parquet as pq

    names = set(pq.read_schema(path).names)
    wanted = ["prompt_id", "dsr_type", "valid", "dsr_score", *keys]
    missing = {"prompt_id", "valid", "dsr_score"} - names
    if missing:
        raise ValueError(f"no column {', '.join(sorted(missing))}")
    rows: list[dict[str, Any]] = pq.read_table(
        path, columns=[c for c in dict.fromkeys(wanted) if c in names]
    ).to_pylist()
    return rows


def eval_view(
    results: Any, rows: Sequence[Mapping[str, Any]] | None, raw: str | None
) -> dict[str, Any]:
    """What the overview's evaluation section shows; ``rows`` are the per-sample rows (None
    without them), ``raw`` the report's link to the JSON file."""
    if not is_dsr_eval(results):
        return {
            "layout": "other",
            "metrics": [m.to_dict() for m in metric_rows(results)],
            "raw": raw,
        }
    boot = Bootstrap.of(results)
    return {
        "layout": "dsr-eval",
        "raw": raw,
        "about": _about(results, boot),
        "table": [_column(results, key) for key in metric_keys(results)],
        "types": _types(results, rows, boot),
        "curve": _curve(results, rows, boot),
        "validity": _validity(results["summary"]),
        "has_rows": rows is not None,
    }


def metric_keys(results: Mapping[str, Any]) -> list[str]:
    """The Table 2 columns, then every other metric of the results (a newer ``dsr eval``'s)."""
    extra = [k for k, v in results["metrics"].items() if k not in TABLE2 and isinstance(v, Mapping)]
    return [*TABLE2, *extra]


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _variant(results: Mapping[str, Any], key: str) -> str | None:
    block = results["metrics"].get(key)
    found = (block.get("variant") if isinstance(block, Mapping) else None) or (
        results.get("variants") or {}
    ).get(key)
    return str(found) if isinstance(found, str) and found else None


def _n(results: Mapping[str, Any], key: str, block: Mapping[str, Any]) -> tuple[int | None, str]:
    """How many samples or videos a metric counts, and what they are."""
    summary = results["summary"]
    if key == "correct@0.7":
        return _int(summary.get("n_samples")), "samples"
    if key == "mean_dsr_score":
        return _int(summary.get("n_valid")), "valid samples"
    return _int(block.get("n_videos", block.get("n"))), "videos"


def _column(results: Mapping[str, Any], key: str) -> dict[str, Any]:
    block = results["metrics"].get(key)
    label = TABLE2.get(key, key)
    if not isinstance(block, Mapping) or _number(block.get("estimate")) is None:
        return {"key": key, "label": label, "present": False, "how": _HOW.get(key)}
    n, unit = _n(results, key, block)
    return {
        "key": key,
        "label": label,
        "present": True,
        "variant": _variant(results, key),
        "estimate": _number(block.get("estimate")),
        "low": _number(block.get("low")),
        "high": _number(block.get("high")),
        "n": n,
        "unit": unit,
        "n_prompts": _int(block.get("n_prompts")),
    }


def _about(results: Mapping[str, Any], boot: Bootstrap) -> dict[str, Any]:
    model = results.get("model") or {}
    dataset = model.get("dataset") or {}
    generator = model.get("generator") or {}
    return {
        "name": str(model.get("name") or "model"),
        "dataset": {
            k: dataset[k]
            for k in ("repo_id", "local_folder", "revision", "commit", "config", "split")
            if dataset.get(k) is not None
        },
        "generator": {
            k: generator[k]
            for k in (
                "generator",
                "model",
                "lora",
                "sampler",
                "num_inference_steps",
                "guidance_scale",
            )
            if generator.get(k) is not None
        },
        "command": results.get("command"),
        "dsr_version": results.get("dsr_version"),
        "bootstrap": {
            "n_resamples": boot.n_resamples,
            "level": boot.level,
            "seed": boot.seed,
            "n_prompts": _int(results["summary"].get("n_prompts")),
        },
    }


def _cell(point: Any, interval: Interval | None) -> dict[str, float | None]:
    return {
        "estimate": _number(point),
        "low": None if interval is None else interval.low,
        "high": None if interval is None else interval.high,
    }


def _paper_order(code: str) -> tuple[int, str]:
    """The paper's order of the DSR types (A–F: LT, TL, RT, LR, TR, RL), unknown codes last."""
    codes = [t.code for t in DSRType]
    return (codes.index(code) if code in codes else len(codes), code)


def _type_row(
    code: str, block: Mapping[str, Any], keys: Sequence[str], intervals: Mapping[str, Interval]
) -> dict[str, Any]:
    return {
        "type": code,
        "name": type_name(code),
        "samples": _int(block.get("n_samples")),
        "valid": _int(block.get("n_valid")),
        "cells": {k: _cell(block.get(k), intervals.get(k)) for k in keys},
        "reasons": {str(r): _int(n) for r, n in (block.get("invalid_reasons") or {}).items()},
    }


def _types(
    results: Mapping[str, Any], rows: Sequence[Mapping[str, Any]] | None, boot: Bootstrap
) -> dict[str, Any]:
    found = {k: v for k, v in (results.get("per_type") or {}).items() if isinstance(v, Mapping)}
    blocks = {k: found[k] for k in sorted(found, key=_paper_order)}
    keys = [
        k
        for k in metric_keys(results)
        if any(_number(b.get(k)) is not None for b in blocks.values())
    ]
    keys += sorted(
        {k for b in blocks.values() for k, v in b.items() if _number(v) is not None}
        - set(keys)
        - set(_TYPE_KEYS)
    )
    tau = results_tau(results, 0.7)
    intervals = type_intervals(rows, keys, boot, tau) if rows else {}
    out = [_type_row(code, block, keys, intervals.get(code, {})) for code, block in blocks.items()]
    return {"keys": keys, "labels": {k: TABLE2.get(k, k) for k in keys}, "rows": out}


def _curve(
    results: Mapping[str, Any], rows: Sequence[Mapping[str, Any]] | None, boot: Bootstrap
) -> dict[str, Any]:
    curve = results["summary"].get("correctness") or {}
    taus = [float(t) for t in curve]
    band = curve_intervals(rows, [results_tau(results, t) for t in taus], boot) if rows else None
    return {
        "thresholds": taus,
        "values": [_number(v) for v in curve.values()],
        "low": None if band is None else [i.low for i in band],
        "high": None if band is None else [i.high for i in band],
    }


def _validity(summary: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "samples": _int(summary.get("n_samples")),
        "valid": _int(summary.get("n_valid")),
        "reasons": {str(r): _int(n) for r, n in (summary.get("invalid_reasons") or {}).items()},
    }
