from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from dsr.errors import ConfigError
from dsr.tracking.annotations import AnnotationTracker
from dsr.tracking.audit import AuditConfig, audit_tracker, box_iou
from dsr.tracking.grounded_sam2 import GroundedSam2Tracker


def test_box_iou() -> None:
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [np.nan] * 4])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 1, 1]])
    np.testing.assert_allclose(box_iou(a, b)[:3], [1.0, 1 / 3, 0.0])
    assert np.isnan(box_iou(a, b)[3])


def test_config_validation() -> None:
    with pytest.raises(ConfigError):
        AuditConfig(num_frames=10, min_frames=20)


def test_audit_of_a_perfect_tracker_needs_the_annotations() -> None:
    cfg = AuditConfig(
        seeds=1, num_frames=24, height=48, width=64, scenario="follow", validity={"min_valid": 8}
    )
    report = audit_tracker(AnnotationTracker(cfg.validity), cfg)
    summary = report.summary()
    assert summary["samples"] == 6
    # the audited tracker never sees annotations: everything is invalid on its side
    assert summary["validity_agreement"] == 0.0 and summary["scored_on_both"] == 0
    assert summary["correct@0.7_flip_rate"] is not None


def test_audit_with_tiny_grounded_sam2(tiny_grounding_dino, tiny_sam2) -> None:
    cfg = AuditConfig(seeds=1, num_frames=20, height=48, width=64, scenario="follow")
    tracker = GroundedSam2Tracker(
        detector=str(tiny_grounding_dino), sam2=str(tiny_sam2), box_threshold=0.3
    )
    report = audit_tracker(tracker, cfg)
    data = report.to_dict()
    json.dumps(data, default=str)
    assert len(data["samples"]) == 6 and data["settings"]["sam2"] == str(tiny_sam2)
    per_sample = [s["frame_class_agreement"] for s in data["samples"]]
    assert data["summary"]["frame_class_agreement"] == pytest.approx(sum(per_sample) / 6)
    assert "validity_agreement" in report.table()
    # the models saw the frames as they are: a rule of ours applied to every sample
    assert data["summary"]["changed_by_input_frames"] == 6


def test_cli_audit_tracker_tiny_grounded_sam2_paper_exact(tmp_path) -> None:
    from dsr.cli import main

    out = tmp_path / "audit.json"
    res = CliRunner().invoke(
        main,
        [
            "audit-tracker",
            "--tracker",
            "grounded-sam2",
            "--tiny",
            "--seeds",
            "1",
            "--frames",
            "8",
            "--size",
            "48x64",
            "--scenario",
            "follow",
            "--paper-exact",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text())
    assert report["tracker"] == "grounded-sam2" and report["summary"]["samples"] == 6
    assert "score_mae" in res.output and "changed_by_label_match" in res.output
    # the preset is applied and recorded
    assert report["config"]["paper_exact"] is True
    assert (report["settings"]["label_match"], report["settings"]["lost_track_fraction"]) == (
        "exact",
        1.0,
    )
    assert [report["settings"][k] for k in ("input_frames", "autocast", "sam2_state")] == [
        "mp4-jpeg",
        "bfloat16",
        "fresh",
    ]
    assert report["summary"]["changed_by_deviations"] == 0
    assert "changed_by_input_frames" in res.output and "changed_by_thin_box" in res.output
