"""``dsr report``: a static, offline HTML report of a dataset folder or Hub dataset.

The report opens from ``file://`` with no server and no network: an overview (counts, validity,
correctness curves, score histogram, build settings, pairs, eval results), a filterable gallery,
one page per sample (the video with its stored boxes drawn frame by frame, SSR curves, frame
classes, detections) and one per pair of winners and losers. The folder layout is drawn in
:mod:`dsr.report.layout`; the page data is computed by the pure functions of
:mod:`dsr.report.data` and :mod:`dsr.report.overview`.
"""

from __future__ import annotations

from dsr.report.build import ReportConfig, ReportResult, build_report

__all__ = ["ReportConfig", "ReportResult", "build_report"]
