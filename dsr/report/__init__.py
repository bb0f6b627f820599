"""``dsr report``: a static, offline HTML report of a dataset folder or Hub dataset.

The report opens from ``file://`` with no server and no network: an overview (counts, validity,
correctness curves, score histogram, build settings, pairs, eval results), a filterable gallery,
one page per sample (the video with its stored boxes drawn frame by frame, SSR curves, frame
classes, detections) and one per pair of winners and losers. The folder layout is drawn in
:mod:`dsr.report.layout`; the page data is computed by the pure functions of
:mod:`dsr.report.data` and :mod:`dsr.report.overview`.

``build_report`` and ``ReportResult`` are imported on first use, so the CLI can read
``ReportConfig`` without loading numpy, polars or pyarrow.
"""

from __future__ import annotations

import importlib
from typing import Any

from dsr.report.config import ReportConfig

__all__ = ["ReportConfig", "ReportResult", "build_report"]


def __getattr__(name: str) -> Any:
    if name not in ("ReportResult", "build_report"):
        raise AttributeError(f"module 'dsr.report' has no attribute {name!r}")
    return getattr(importlib.import_module("dsr.report.build"), name)
