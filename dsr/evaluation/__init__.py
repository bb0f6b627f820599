"""The paper's evaluation (docs/method.md §7) of any ``samples`` config: DSR metrics from stored
rows, prompt-level bootstrap intervals and paired tests, ID consistency (DINOv2), CLIP-IQA (piq's
CLIP ResNet-50 as the authors, or a Hugging Face CLIP), imaging quality (MUSIQ, optional), the
``dsr eval`` job, comparisons and model cards (evaluation during
``dsr train`` lives in :mod:`dsr.training.eval_callback`, on top of this package). Importing this
package imports no model library."""

from __future__ import annotations

from dsr.evaluation.bootstrap import Interval, PairedTest, Ratio, bootstrap_interval, paired_test
from dsr.evaluation.config import METRICS, EvalConfig
from dsr.evaluation.dsr_metrics import DSRMetrics, SampleOutcome, dsr_metrics, outcomes, per_type
from dsr.evaluation.frames import (
    animal_crops,
    authors_crop_frames,
    id_consistency,
    tracker_order,
    usable_frames,
)
from dsr.evaluation.runner import EvalRun, evaluate

__all__ = [
    "METRICS",
    "DSRMetrics",
    "EvalConfig",
    "EvalRun",
    "Interval",
    "PairedTest",
    "Ratio",
    "SampleOutcome",
    "animal_crops",
    "authors_crop_frames",
    "bootstrap_interval",
    "dsr_metrics",
    "evaluate",
    "id_consistency",
    "outcomes",
    "paired_test",
    "per_type",
    "tracker_order",
    "usable_frames",
]
