"""Geometry of dynamic spatial relations: SSR scores, the DSR-Score, validity and correctness.

Pure numpy: importing this package never imports torch.
"""

from __future__ import annotations

from dsr.scoring.correctness import DEFAULT_THRESHOLDS, CorrectnessCurve, correctness
from dsr.scoring.dsr_score import DSRScore, DSRScoreBatch, ScoreConfig, dsr_score, dsr_scores
from dsr.scoring.geometry import ssr_score, ssr_scores, usable_mask
from dsr.scoring.plots import plot_correctness, plot_ssr_curves
from dsr.scoring.relations import (
    DEFAULT_DEPTH_MARGIN,
    DEPTH_COLUMNS,
    DepthInputs,
    FrameInputs,
    TracksLike,
    frame_scores,
)
from dsr.scoring.validity import (
    LABEL_MATCH_MODES,
    FrameClass,
    LabelMatcher,
    Validity,
    ValidityConfig,
    classify_frames,
    decide_validity,
    normalize_label,
)

__all__ = [
    "DEFAULT_DEPTH_MARGIN",
    "DEFAULT_THRESHOLDS",
    "DEPTH_COLUMNS",
    "LABEL_MATCH_MODES",
    "CorrectnessCurve",
    "DSRScore",
    "DSRScoreBatch",
    "DepthInputs",
    "FrameInputs",
    "FrameClass",
    "LabelMatcher",
    "ScoreConfig",
    "TracksLike",
    "Validity",
    "ValidityConfig",
    "classify_frames",
    "correctness",
    "decide_validity",
    "dsr_score",
    "dsr_scores",
    "frame_scores",
    "normalize_label",
    "plot_correctness",
    "plot_ssr_curves",
    "ssr_score",
    "ssr_scores",
    "usable_mask",
]
