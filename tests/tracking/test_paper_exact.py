"""The authors' behaviour one switch away: ``label_match``, ``lost_track_fraction=1.0``, the
``--paper-exact`` preset, and the per-sample record of which rule of ours changed a result."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from dsr.errors import ConfigError
from dsr.generation.base import Annotations
from dsr.paper_exact import paper_exact_options
from dsr.tracking import TRACKERS
from dsr.tracking.audit import AuditConfig, audit_tracker
from dsr.tracking.base import Detection
from dsr.tracking.grounded_sam2 import GroundedSam2Tracker
from dsr.tracking.grounding import AnnotationDetector
from dsr.tracking.sam2_video import Propagation

CAT, BENCH = (4.0, 20.0, 14.0, 31.0), (24.0, 40.0, 39.0, 47.0)


def _annotations(labels: list[str], n: int) -> Annotations:
    boxes = {"cat": CAT, "Cats": CAT, "bench": BENCH}
    frame = tuple((label, boxes[label]) for label in labels)
    return Annotations((frame,) * n, np.tile(CAT, (n, 1)), np.tile(BENCH, (n, 1)))


class _StubSam2:
    """A SAM2 stand-in (the propagation is tested elsewhere): the key frame's boxes on every frame,
    except that masks in ``filling`` frames cover the whole frame, as a lost track does."""

    device = "cpu"

    def __init__(self, filling: tuple[int, ...] = ()) -> None:
        self.filling = list(filling)

    def propagate(self, frames: np.ndarray, key_frame: int, boxes: Any) -> Propagation:
        n, h, w = frames.shape[:3]
        out = np.stack([np.tile(np.asarray(b, dtype=float), (n, 1)) for b in boxes])
        area = np.full((len(boxes), n), 0.05)
        out[0, self.filling] = (0, 0, w - 1, h - 1)
        area[0, self.filling] = 1.0
        return Propagation(out, area, np.ones(n, dtype=bool))


def _tracker(
    validity: Any, filling: tuple[int, ...] = (), detector: Any = None, **options: Any
) -> GroundedSam2Tracker:
    tracker = GroundedSam2Tracker(
        detector="unused",
        sam2="unused",
        validity=validity,
        detector_backend=detector or AnnotationDetector(),
        **options,
    )
    tracker.propagator = _StubSam2(filling)
    return tracker


def test_plural_labels_make_a_label_match_deviation_and_exact_mode_refuses_them(
    moving_squares, prompt, short_validity
) -> None:
    ann = _annotations(["Cats", "bench"], 10)
    ours = _tracker(short_validity).track(moving_squares(10), prompt, ann)
    # the frames went to the models as they are: input_frames applied to every sample
    assert ours.validity.valid and ours.deviations == ("label_match", "input_frames")
    assert ours.validity.label_match_frames == tuple(range(10))
    np.testing.assert_array_equal(
        ours.animal_boxes, np.tile(CAT, (10, 1))
    )  # the "Cats" box prompted SAM2
    theirs = _tracker(short_validity, label_match="exact").track(moving_squares(10), prompt, ann)
    assert not theirs.validity.valid and theirs.validity.reason == "too_many_redundant"
    assert theirs.deviations == ("input_frames",) and np.isnan(theirs.animal_boxes).all()


@pytest.mark.parametrize(("fraction", "lost"), [(0.9, [6, 7]), (1.0, [])])
def test_lost_track_rule_and_its_off_switch(
    moving_squares, prompt, short_validity, fraction: float, lost: list[int]
) -> None:
    tracker = _tracker(short_validity, filling=(6, 7), lost_track_fraction=fraction)
    result = tracker.track(moving_squares(10), prompt, _annotations(["cat", "bench"], 10))
    dropped = np.flatnonzero(~np.isfinite(result.animal_boxes).all(axis=1)).tolist()
    assert dropped == lost
    assert result.deviations == (("lost_track",) if lost else ()) + ("input_frames",)
    if not lost:  # the authors keep the frame-filling box
        np.testing.assert_array_equal(result.animal_boxes[6], [0, 0, 63, 63])


def test_preset_sets_the_authors_values_and_refuses_conflicts() -> None:
    assert paper_exact_options("tracker", "grounded-sam2", {"box_threshold": 0.35}) == {
        "box_threshold": 0.35,
        "label_match": "exact",
        "lost_track_fraction": 1.0,
        "input_frames": "mp4-jpeg",
        "autocast": "bfloat16",
        "sam2_state": "fresh",
    }
    # frames decoded from existing video files go through the JPEG files only
    assert paper_exact_options("tracker", "grounded-sam2", {}, from_files=True)["input_frames"] == (
        "jpeg"
    )
    assert paper_exact_options("score", "dsr-score", {}) == {"box_check": "authors"}
    assert paper_exact_options("generator", "wan", {}) == {"sampler": "euler", "flow_shift": 5.0}
    assert paper_exact_options("generator", "synthetic", {"num_frames": 9}) == {"num_frames": 9}
    with pytest.raises(ConfigError, match="label_match='normalized' was given"):
        paper_exact_options("tracker", "grounded-sam2", {"label_match": "normalized"})
    with pytest.raises(ConfigError, match="not SAM3"):
        paper_exact_options("tracker", "sam3", {})


def test_registry_names_unknown_and_mistyped_options() -> None:
    with pytest.raises(ConfigError) as err:
        TRACKERS.create("grounded-sam2", {"lost_track": 1.0, "label_match": "exact"})
    assert "unknown tracker option lost_track for 'grounded-sam2' (--tracker-opt)" in str(err.value)
    assert "lost_track_fraction" in str(err.value) and "label_match" in str(err.value)
    with pytest.raises(ConfigError, match="cannot take box_threshold='high'"):
        TRACKERS.create("grounded-sam2", {"box_threshold": "high"})
    assert (
        TRACKERS.create("annotations", {"label_match": "exact", "min_valid": 3}).settings()[
            "min_valid"
        ]
        == 3
    )


class _PluralDetector:
    """Detects the animal (as a plural) and the object at fixed boxes on every frame."""

    def settings(self) -> dict[str, Any]:
        return {"model": "plural"}

    def detect(self, frames: np.ndarray, animal: str, obj: str, annotations: Any = None) -> Any:
        dets = (
            Detection(animal + "s", (4.0, 4.0, 20.0, 20.0)),
            Detection(obj, (30.0, 20.0, 50.0, 40.0)),
        )
        return tuple(dets for _ in range(len(frames)))


@pytest.mark.parametrize(("label_match", "changed"), [("normalized", 6), ("exact", 0)])
def test_audit_counts_the_samples_a_deviation_changed(label_match: str, changed: int) -> None:
    tracker = _tracker({"min_valid": 8}, detector=_PluralDetector(), label_match=label_match)
    report = audit_tracker(
        tracker,
        AuditConfig(seeds=1, num_frames=10, height=48, width=64, min_frames=5, scenario="follow"),
    )
    summary = report.summary()
    assert summary["samples"] == 6
    assert summary["changed_by_label_match"] == changed and summary["changed_by_input_frames"] == 6
    assert summary["changed_by_deviations"] == 6 and summary["changed_by_lost_track"] == 0
    assert [s.deviations for s in report.samples] == [
        (("label_match",) if changed else ()) + ("input_frames",)
    ] * 6


def _audit(*args: str):
    from dsr.cli import main

    return CliRunner().invoke(
        main,
        [
            "audit-tracker",
            "--seeds",
            "1",
            "--frames",
            "6",
            "--size",
            "32x48",
            "--scenario",
            "follow",
            *args,
        ],
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--tracker", "sam3", "--paper-exact"], "--paper-exact with --tracker sam3"),
        (
            ["--tracker-opt", "labelmatch=exact"],
            "unknown tracker option labelmatch for 'grounded-sam2'",
        ),
        (["--size", "100000x100000"], "AuditConfig.height=100,000 exceeds the limit of 8,192"),
    ],
)
def test_cli_audit_refuses_in_one_line(tmp_path, args: list[str], needle: str) -> None:
    res = _audit(*args, "--out", str(tmp_path / "a.json"))
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
    assert res.output.strip().splitlines() == [res.output.strip()] and needle in res.output
    assert not (tmp_path / "a.json").exists()
