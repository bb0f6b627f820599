"""Audit a tracker against the ground truth of ``synthetic`` videos.

For every DSR type and seed, the synthetic generator renders a video and emits its true
annotations. The truth side is the ``annotations`` tracker (true labels through the same validity
rules, true boxes); the audited tracker sees only the frames. Per sample it compares:

- per-frame box IoU of the animal and of the object (frames where both have a box), and how often
  a true box has no tracked box;
- validity agreement (the valid flag, and the per-frame classes);
- the DSR-Score difference (samples valid on both sides) and whether the Correct@0.7 decision
  flips (invalid counts as a failure on either side, as in Correctness);
- which rules beyond the authors' code (``deviations``: those of the tracker, and ``thin_box`` of
  the DSR-Score's box check) changed the audited tracker's result; the summary counts the samples
  each one changed. ``paper_exact`` scores with the authors' box check.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from dsr.errors import ConfigError
from dsr.limits import MAX_SEEDS_PER_PROMPT, check_max, check_video_size
from dsr.paper_exact import TRACKER_PRESET_HELP, paper_exact_config
from dsr.prompts import DSRPrompt, DSRType
from dsr.scoring import ScoreConfig, ValidityConfig, dsr_score
from dsr.scoring.geometry import usable_mask
from dsr.tracking.base import DEVIATIONS, THIN_BOX, Tracker, TrackResult

__all__ = ["AuditConfig", "AuditReport", "SampleAudit", "audit_tracker", "box_iou"]

_PAIRS = (
    ("cat", "bench"),
    ("dog", "box"),
    ("fox", "rock"),
    ("rabbit", "stump"),
    ("duck", "crate"),
    ("bird", "chair"),
)


@dataclass(frozen=True)
class AuditConfig:
    """Which synthetic videos to audit on and how to score them."""

    seeds: int = field(
        default=2, metadata={"help": "Synthetic videos per DSR type (seeds 0..N-1)."}
    )
    num_frames: int = field(default=24, metadata={"help": "Frames per video."})
    height: int = field(default=64, metadata={"help": "frame height"})
    width: int = field(default=96, metadata={"help": "frame width"})
    scenario: str | None = field(
        default=None, metadata={"help": "Force one synthetic scenario [default: mixed]."}
    )
    tau: float = field(
        default=0.7, metadata={"help": "Correct@τ threshold whose flips are counted"}
    )
    m: int = field(default=3, metadata={"help": "DSR-Score m"})
    min_frames: int = field(default=20, metadata={"help": "DSR-Score minimum usable frames"})
    validity: ValidityConfig = field(
        default_factory=ValidityConfig, metadata={"help": "validity rules of the truth side"}
    )
    paper_exact: bool = field(
        default=False,
        metadata={
            "help": "The audited tracker has the authors' behaviour wherever ours differs, "
            f"recorded in the report: {TRACKER_PRESET_HELP}. Refused with sam3."
        },
    )

    def __post_init__(self) -> None:
        if isinstance(self.validity, dict):
            object.__setattr__(self, "validity", ValidityConfig(**self.validity))
        if self.seeds < 1 or self.num_frames < 2:
            raise ConfigError(
                f"AuditConfig needs seeds ≥ 1 and num_frames ≥ 2, got {self.seeds} and "
                f"{self.num_frames}"
            )
        check_max("AuditConfig.seeds", self.seeds, MAX_SEEDS_PER_PROMPT, "default 2")
        check_video_size(self.num_frames, self.height, self.width, "AuditConfig")
        if self.min_frames > self.num_frames:
            raise ConfigError(
                f"min_frames={self.min_frames} exceeds num_frames={self.num_frames}: no video "
                "could be scored"
            )


@dataclass(frozen=True)
class SampleAudit:
    """One video: truth against tracker."""

    sample: str
    scenario: str
    animal_iou: float | None
    object_iou: float | None
    animal_missed: float
    truth_valid: bool
    tracker_valid: bool
    frame_class_agreement: float
    truth_score: float | None
    tracker_score: float | None
    deviations: tuple[str, ...] = ()

    def correct(self, tau: float) -> tuple[bool, bool]:
        return ((self.truth_score or 0.0) >= tau, (self.tracker_score or 0.0) >= tau)


@dataclass
class AuditReport:
    tracker: str
    settings: dict[str, Any]
    config: dict[str, Any]
    samples: list[SampleAudit]

    def summary(self) -> dict[str, Any]:
        tau = self.config["tau"]
        s = self.samples

        def mean(values: list[float | None]) -> float | None:
            kept = [v for v in values if v is not None and np.isfinite(v)]
            return float(np.mean(kept)) if kept else None

        both = [
            (x.truth_score, x.tracker_score)
            for x in s
            if x.truth_score is not None and x.tracker_score is not None
        ]
        changed = {
            f"changed_by_{name}": sum(name in x.deviations for x in s) for name in DEVIATIONS
        }
        return {
            "samples": len(s),
            "animal_iou": mean([x.animal_iou for x in s]),
            "object_iou": mean([x.object_iou for x in s]),
            "animal_missed_frames": mean([x.animal_missed for x in s]),
            "validity_agreement": mean([float(x.truth_valid == x.tracker_valid) for x in s]),
            "frame_class_agreement": mean([x.frame_class_agreement for x in s]),
            "score_mae": mean([abs(truth - tracked) for truth, tracked in both]),
            "scored_on_both": len(both),
            f"correct@{tau}_flip_rate": mean(
                [float(a != b) for a, b in (x.correct(tau) for x in s)]
            ),
            "changed_by_deviations": sum(bool(x.deviations) for x in s),
            **changed,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "tracker": self.tracker,
            "settings": self.settings,
            "config": self.config,
            "summary": self.summary(),
            "samples": [asdict(x) for x in self.samples],
        }

    def table(self) -> str:
        rows = [
            f"{k:>26}: {'n/a' if v is None else (f'{v:.3f}' if isinstance(v, float) else v)}"
            for k, v in self.summary().items()
        ]
        return f"tracker audit: {self.tracker}\n" + "\n".join(rows)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-row IoU of xyxy boxes (T, 4); NaN where either box is missing."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ix = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = ix * iy
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / (area(a) + area(b) - inter)


def _box_check(cfg: AuditConfig) -> str:
    """The DSR-Score's box check: the authors' under ``paper_exact``."""
    score = ScoreConfig()
    return (
        paper_exact_config("score", "dsr-score", score).box_check
        if cfg.paper_exact
        else (score.box_check)
    )


def _score(result: TrackResult, prompt: DSRPrompt, cfg: AuditConfig) -> float | None:
    if not result.validity.valid:
        return None
    return dsr_score(
        result.animal_boxes,
        result.object_boxes,
        prompt.initial,
        prompt.final,
        m=cfg.m,
        min_frames=cfg.min_frames,
        box_check=_box_check(cfg),
    ).score


def _thin_box(result: TrackResult, cfg: AuditConfig) -> tuple[str, ...]:
    """``("thin_box",)`` when our box check left out frames of a tracked result that the authors'
    checks keep."""
    if _box_check(cfg) == "authors" or not result.validity.valid:
        return ()
    a, o = result.animal_boxes, result.object_boxes
    return (THIN_BOX,) if (usable_mask(a, o, "authors") & ~usable_mask(a, o)).any() else ()


def _compare(
    name: str,
    scenario: str,
    prompt: DSRPrompt,
    truth: TrackResult,
    pred: TrackResult,
    cfg: AuditConfig,
) -> SampleAudit:
    ious = [
        box_iou(t, p)
        for t, p in (
            (truth.animal_boxes, pred.animal_boxes),
            (truth.object_boxes, pred.object_boxes),
        )
    ]
    present = np.isfinite(truth.animal_boxes).all(axis=1)
    missed = present & ~np.isfinite(pred.animal_boxes).all(axis=1)
    agree = np.mean(
        [
            a == b
            for a, b in zip(truth.validity.frame_classes, pred.validity.frame_classes, strict=True)
        ]
    )
    mean = lambda v: float(np.nanmean(v)) if np.isfinite(v).any() else None  # noqa: E731
    return SampleAudit(
        name,
        scenario,
        mean(ious[0]),
        mean(ious[1]),
        float(missed.sum() / max(present.sum(), 1)),
        truth.validity.valid,
        pred.validity.valid,
        float(agree),
        _score(truth, prompt, cfg),
        _score(pred, prompt, cfg),
        tuple(pred.deviations) + _thin_box(pred, cfg),
    )


def audit_tracker(tracker: Tracker, config: AuditConfig | None = None) -> AuditReport:
    """Run ``tracker`` on synthetic videos of every DSR type and compare with their truth."""
    from dsr.generation.synthetic import SyntheticConfig, SyntheticGenerator
    from dsr.tracking.annotations import AnnotationTracker

    cfg = config or AuditConfig()
    gen = SyntheticGenerator(
        SyntheticConfig(
            num_frames=cfg.num_frames, height=cfg.height, width=cfg.width, scenario=cfg.scenario
        )
    )
    truth_tracker = AnnotationTracker(cfg.validity)
    samples = []
    for i, dsr_type in enumerate(DSRType):
        animal, obj = _PAIRS[i % len(_PAIRS)]
        prompt = DSRPrompt("", animal, obj, dsr_type.initial, dsr_type.final, "moves")
        for video in gen.generate(prompt, list(range(cfg.seeds))):
            truth = truth_tracker.track(video.frames, prompt, video.annotations)
            pred = tracker.track(video.frames, prompt)  # the audited tracker sees the frames only
            scenario = video.annotations.scenario if video.annotations else ""
            samples.append(
                _compare(f"{dsr_type.code}-seed{video.seed}", scenario, prompt, truth, pred, cfg)
            )
    config_dict = asdict(cfg)
    return AuditReport(
        getattr(tracker, "name", type(tracker).__name__), tracker.settings(), config_dict, samples
    )
