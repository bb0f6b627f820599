"""The metrics table of an ``eval_results.json``, read without assuming more of its layout than
this: metrics are numbers, or objects holding a number (``value``, ``mean``, ``estimate``,
``point`` or ``score``) and perhaps an interval (``ci``/``interval``/``ci95`` as ``[low, high]`` or
``{low, high}``/``{lower, upper}``, or ``ci_low``/``ci_high`` beside the value), nested under
any names (model, split, DSR type, metric). Each such leaf becomes one table row named by its path;
what is not a metric (settings, weights, versions) is kept as JSON for the page to show as is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["MetricRow", "metric_rows", "split_settings"]

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
        return MetricRow(name, value)
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
        if key in SETTINGS_KEYS or key in _INTERVAL_KEYS:
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


def split_settings(results: Any) -> dict[str, Any]:
    """The parts of ``results`` that describe how it was made (settings, weights, versions)."""
    if not isinstance(results, Mapping):
        return {}
    return {k: v for k, v in results.items() if k in SETTINGS_KEYS}
