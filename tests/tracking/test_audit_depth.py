"""``audit-tracker`` with the new relations: depth values compared with the synthetic truth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dsr.generation.synthetic import _colour
from dsr.scoring.validity import classify_frames
from dsr.tracking.audit import AuditConfig, audit_tracker, depth_agreement
from dsr.tracking.base import TrackResult
from dsr.tracking.depth import DepthTrack, depth_track, needs_depth


def test_depth_agreement_by_hand() -> None:
    nan = float("nan")
    truth = DepthTrack(np.array([0.1, 0.2, 0.5]), np.array([0.3, 0.1, nan]), np.array([1.0, 0, 0]))
    pred = DepthTrack(np.array([0.2, nan, 0.4]), np.array([0.3, 0.4, 0.1]), np.array([1.0, 1, 0]))
    got = depth_agreement(truth, pred)
    assert np.isclose(got["animal_depth_mae"], (0.1 + 0.1) / 2)  # frames 0 and 2
    assert np.isclose(got["object_depth_mae"], (0.0 + 0.3) / 2)  # frames 0 and 1
    assert got["depth_order_agreement"] == 1.0  # only frame 0 has all four: both say animal nearer
    assert np.isclose(got["occlusion_agreement"], 2 / 3)


@dataclass(frozen=True)
class _Config:
    depth_source: str = "annotations"


class ColourTracker:
    """Finds the sprites by their colours (the synthetic world paints them flat), and takes the
    true depth map it is given: an audited tracker whose only error is its masks."""

    name = "colour"
    config = _Config()

    def settings(self) -> dict[str, Any]:
        return {"tracker": self.name}

    def track(self, frames: np.ndarray, prompt: Any, annotations: Any = None) -> TrackResult:
        a, o = _colour(prompt.animal), _colour("object:" + prompt.object)
        animal = np.isin(_rgb(frames), [_key(a), _key(a // 3)])
        obj = np.isin(_rgb(frames), [_key(o), _key(o // 2)])
        boxes = [_boxes(m) for m in (animal, obj)]
        labels = [
            [
                name
                for name, b in ((prompt.animal, boxes[0][t]), (prompt.object, boxes[1][t]))
                if np.isfinite(b).all()
            ]
            for t in range(len(frames))
        ]
        validity = classify_frames(labels, prompt.animal, prompt.object)
        depth = None
        if needs_depth(prompt):
            distance = None if annotations is None else annotations.depth
            depth = depth_track(distance, animal, obj)
        return TrackResult(boxes[0], boxes[1], validity, depth=depth)


def _key(colour: np.ndarray) -> int:
    r, g, b = (int(c) for c in colour)
    return (r << 16) | (g << 8) | b


def _rgb(frames: np.ndarray) -> np.ndarray:
    f = frames.astype(np.int64)
    return (f[..., 0] << 16) | (f[..., 1] << 8) | f[..., 2]


def _boxes(masks: np.ndarray) -> np.ndarray:
    out = np.full((len(masks), 4), np.nan)
    for t, m in enumerate(masks):
        ys, xs = np.nonzero(m)
        if ys.size:
            out[t] = (xs.min(), ys.min(), xs.max(), ys.max())
    return out


def test_audit_with_new_relations_compares_depth_values() -> None:
    cfg = AuditConfig(
        seeds=1,
        num_frames=24,
        height=72,
        width=96,
        scenario="follow",
        new_relations=True,
        validity={"min_valid": 8},
    )
    report = audit_tracker(ColourTracker(), cfg)
    summary = report.summary()
    assert summary["samples"] == 6 + 6 and summary["depth_samples"] == 4
    names = [s.sample for s in report.samples]
    assert "front-behind-seed0" in names and "left-under-seed0" in names
    assert summary["animal_depth_mae"] < 0.02 and summary["object_depth_mae"] < 0.02
    assert summary["depth_order_agreement"] > 0.95
    assert summary["occlusion_agreement"] > 0.9
    plain = audit_tracker(ColourTracker(), AuditConfig(**{**cfg.__dict__, "new_relations": False}))
    assert "depth_samples" not in plain.summary() and plain.summary()["samples"] == 6
