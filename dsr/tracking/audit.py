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

``new_relations`` adds the pairs of :data:`NEW_RELATION_PAIRS` (under, front, behind). For those
placed in depth it also compares the per-frame depth values (:mod:`dsr.tracking.depth`) with the
truth (the true depth map over the true visible masks): the mean absolute error of
``animal_depth`` and ``object_depth``, how often the two agree on which entity is nearer, and how
often the occlusion sign agrees. The audited tracker is given the true depth map (and nothing else
of the truth) only when its ``depth_source`` is ``annotations``; that measures its masks through
the true depth, while ``model`` measures the depth model and the masks together. Both sides score
every pair as a dataset sample is scored: the DSR-Score with their own depth values where the
relations need depth.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from dsr.errors import ConfigError
from dsr.generation.base import Annotations
from dsr.limits import MAX_SEEDS_PER_PROMPT, check_max, check_video_size
from dsr.paper_exact import TRACKER_PRESET_HELP, paper_exact_config
from dsr.prompts import DSRPrompt, DSRType, Relation
from dsr.scoring import DepthInputs, ScoreConfig, ValidityConfig, dsr_score
from dsr.scoring.geometry import usable_mask
from dsr.tracking.base import DEVIATIONS, THIN_BOX, Tracker, TrackResult
from dsr.tracking.depth import DepthTrack, needs_depth

__all__ = [
    "NEW_RELATION_PAIRS",
    "AuditConfig",
    "AuditReport",
    "SampleAudit",
    "audit_tracker",
    "box_iou",
    "depth_agreement",
]

#: (initial, final) relation names audited with ``new_relations``.
NEW_RELATION_PAIRS = (
    ("front", "behind"),
    ("behind", "front"),
    ("left", "front"),
    ("behind", "right"),
    ("under", "top"),
    ("left", "under"),
)

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
    new_relations: bool = field(
        default=False,
        metadata={
            "help": "Also audit prompts with under, front and behind, and the depth values of "
            "those placed in depth."
        },
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
    depth: dict[str, float | None] | None = None

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
            **self._depth_summary(mean),
        }

    def _depth_summary(self, mean: Any) -> dict[str, Any]:
        """Means of the per-sample depth comparisons (only for an audit with new relations)."""
        if not self.config.get("new_relations"):
            return {}
        depth = [x.depth for x in self.samples if x.depth is not None]
        keys = ("animal_depth_mae", "object_depth_mae", "depth_order_agreement")
        return {
            "depth_samples": len(depth),
            **{k: mean([d[k] for d in depth]) for k in (*keys, "occlusion_agreement")},
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
    d = result.depth
    return dsr_score(
        result.animal_boxes,
        result.object_boxes,
        prompt.initial,
        prompt.final,
        m=cfg.m,
        min_frames=cfg.min_frames,
        box_check=_box_check(cfg),
        middle=prompt.middle,
        depth=None if d is None else DepthInputs.of(d.animal_depth, d.object_depth, d.occlusion),
    ).score


def _thin_box(result: TrackResult, cfg: AuditConfig) -> tuple[str, ...]:
    """``("thin_box",)`` when our box check left out frames of a tracked result that the authors'
    checks keep."""
    if _box_check(cfg) == "authors" or not result.validity.valid:
        return ()
    a, o = result.animal_boxes, result.object_boxes
    return (THIN_BOX,) if (usable_mask(a, o, "authors") & ~usable_mask(a, o)).any() else ()


def _finite_mean(values: np.ndarray) -> float | None:
    return float(np.mean(values)) if values.size else None


def depth_agreement(truth: DepthTrack, pred: DepthTrack) -> dict[str, float | None]:
    """Per-video comparison of depth values: mean absolute errors of ``animal_depth`` and
    ``object_depth`` (frames where both sides have it), the share of frames where both say the
    same entity is nearer (sign of object − animal, frames with all four values), and the share
    of frames with the same occlusion sign."""
    out: dict[str, float | None] = {}
    for name in ("animal_depth", "object_depth"):
        t, p = getattr(truth, name), getattr(pred, name)
        both = np.isfinite(t) & np.isfinite(p)
        out[f"{name}_mae"] = _finite_mean(np.abs(t[both] - p[both]))
    t_order = np.sign(truth.object_depth - truth.animal_depth)
    p_order = np.sign(pred.object_depth - pred.animal_depth)
    both = np.isfinite(t_order) & np.isfinite(p_order)
    out["depth_order_agreement"] = _finite_mean((t_order[both] == p_order[both]).astype(float))
    out["occlusion_agreement"] = _finite_mean((truth.occlusion == pred.occlusion).astype(float))
    return out


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
        None
        if truth.depth is None or pred.depth is None
        else depth_agreement(truth.depth, pred.depth),
    )


def _prompt(animal: str, obj: str, initial: str, final: str) -> DSRPrompt:
    """The audited prompt of one pair of relation names."""
    return DSRPrompt("", animal, obj, Relation.coerce(initial), Relation.coerce(final), "moves")


def _audit_prompts(cfg: AuditConfig) -> list[tuple[str, DSRPrompt]]:
    """(sample name prefix, prompt) of every audited DSR type and, optionally, new pair."""
    out = []
    for i, dsr_type in enumerate(DSRType):
        animal, obj = _PAIRS[i % len(_PAIRS)]
        out.append(
            (dsr_type.code, DSRPrompt("", animal, obj, dsr_type.initial, dsr_type.final, "moves"))
        )
    if cfg.new_relations:
        for i, (initial, final) in enumerate(NEW_RELATION_PAIRS):
            animal, obj = _PAIRS[i % len(_PAIRS)]
            out.append((f"{initial}-{final}", _prompt(animal, obj, initial, final)))
    return out


def _depth_only(annotations: Annotations | None, tracker: Tracker) -> Annotations | None:
    """What of the truth the audited tracker may see: the true depth map, and only when it is
    told to use it (``depth_source="annotations"``)."""
    config = getattr(tracker, "config", None)
    if annotations is None or getattr(config, "depth_source", None) != "annotations":
        return None
    n = len(annotations.detections)
    empty = np.full((n, 4), np.nan)
    return Annotations(tuple(() for _ in range(n)), empty, empty.copy(), depth=annotations.depth)


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
    for code, prompt in _audit_prompts(cfg):
        for video in gen.generate(prompt, list(range(cfg.seeds))):
            truth = truth_tracker.track(video.frames, prompt, video.annotations)
            if needs_depth(prompt):  # the frames, and the true depth map only if told to use it
                pred = tracker.track(video.frames, prompt, _depth_only(video.annotations, tracker))
            else:  # the audited tracker sees the frames only
                pred = tracker.track(video.frames, prompt)
            scenario = video.annotations.scenario if video.annotations else ""
            samples.append(_compare(f"{code}-seed{video.seed}", scenario, prompt, truth, pred, cfg))
    config_dict = asdict(cfg)
    return AuditReport(
        getattr(tracker, "name", type(tracker).__name__), tracker.settings(), config_dict, samples
    )
