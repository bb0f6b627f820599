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
    assert paper_exact_options("generator", "wan", {}) == {
        "sampler": "euler",
        "flow_shift": 5.0,
        "timestep_dtype": "bfloat16",
    }
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


# --- the authors' inputs, precision and SAM2 states -------------------------------------------


class _RecordingDetector(AnnotationDetector):
    """Detections from the annotations; keeps the frames it was given."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []

    def detect(self, frames: np.ndarray, animal: str, obj: str, annotations: Any = None) -> Any:
        self.frames.append(np.array(frames))
        return super().detect(frames, animal, obj, annotations)


class _RecordingSam2(_StubSam2):
    def __init__(self, device: str = "cpu") -> None:
        super().__init__()
        self.device = device
        self.frames: list[np.ndarray] = []

    def propagate(self, frames: np.ndarray, key_frame: int, boxes: Any) -> Propagation:
        self.frames.append(np.array(frames))
        return super().propagate(frames, key_frame, boxes)


def _their_frames(frames: np.ndarray, tmp: Any) -> np.ndarray:
    """The authors' chain written out: imageio's writer at quality=5, decoded, JPEG files at
    quality 95 (4:2:0, as cv2.imwrite) read back with PIL."""
    imageio = pytest.importorskip("imageio")
    from PIL import Image

    from dsr.media import decode_video

    writer = imageio.get_writer(tmp / "v.mp4", fps=16, quality=5)
    for frame in frames:
        writer.append_data(frame)
    writer.close()
    out = []
    for i, frame in enumerate(decode_video(tmp / "v.mp4")[0]):
        Image.fromarray(frame).save(tmp / f"{i:05d}.jpg", quality=95, subsampling=2)
        out.append(np.asarray(Image.open(tmp / f"{i:05d}.jpg").convert("RGB")))
    return np.stack(out)


@pytest.mark.parametrize("input_frames", ["raw", "mp4-jpeg", "jpeg"])
def test_detector_and_sam2_receive_the_frames_input_frames_asks_for(
    tmp_path, moving_squares, prompt, short_validity, input_frames: str
) -> None:
    pytest.importorskip("imageio_ffmpeg")
    detector = _RecordingDetector()
    tracker = _tracker(short_validity, detector=detector, input_frames=input_frames)
    tracker.propagator = sam2 = _RecordingSam2()
    frames = moving_squares(10)
    result = tracker.track(frames, prompt, _annotations(["cat", "bench"], 10))
    expected = {
        "raw": frames,
        "mp4-jpeg": _their_frames(frames, tmp_path),
        "jpeg": np.stack(
            [np.asarray(_jpeg_file(frame, tmp_path / f"{i}.jpg")) for i, frame in enumerate(frames)]
        ),
    }[input_frames]
    np.testing.assert_array_equal(detector.frames[0], expected)
    np.testing.assert_array_equal(sam2.frames[0], expected)
    assert ("input_frames" in result.deviations) == (input_frames == "raw")


def _jpeg_file(frame: np.ndarray, path: Any) -> Any:
    from PIL import Image

    Image.fromarray(frame).save(path, quality=95, subsampling=2)
    return Image.open(path).convert("RGB")


@pytest.mark.parametrize(
    ("device", "autocast", "listed"),
    [("cpu", "none", False), ("cuda:0", "none", True), ("cuda:0", "bfloat16", False)],
)
def test_autocast_rule_is_listed_for_samples_tracked_on_cuda_without_it(
    moving_squares, prompt, short_validity, device: str, autocast: str, listed: bool
) -> None:
    """Only the bookkeeping: CUDA bf16 autocast itself needs a GPU (not on the test machines)."""
    tracker = _tracker(short_validity, autocast=autocast, input_frames="jpeg")
    tracker.propagator = _RecordingSam2(device)
    with pytest.MonkeyPatch.context() as mp:  # no CUDA here: the context must not be entered
        mp.setattr(type(tracker), "_autocast", lambda self: _nullcontext())
        result = tracker.track(moving_squares(10), prompt, _annotations(["cat", "bench"], 10))
    assert ("autocast" in result.deviations) == listed


def _nullcontext() -> Any:
    import contextlib

    return contextlib.nullcontext()


def test_autocast_on_the_cpu_changes_nothing(moving_squares, prompt, short_validity) -> None:
    ann = _annotations(["cat", "bench"], 10)
    plain = _tracker(short_validity).track(moving_squares(10), prompt, ann)
    cast = _tracker(short_validity, autocast="bfloat16").track(moving_squares(10), prompt, ann)
    np.testing.assert_array_equal(plain.animal_boxes, cast.animal_boxes)
    assert plain.deviations == cast.deviations == ("input_frames",)


def _backward_only(model_dir: Any, frames: np.ndarray, key: int, boxes: list) -> np.ndarray:
    """Per object and frame key, key-1, ..., 0: the box and the mask's share of the frame, from
    transformers' SAM2 alone in one fresh session prompted on the key frame and propagated backward
    only (what the authors' second ``init_state`` gives)."""
    import torch
    from transformers import Sam2VideoModel, Sam2VideoProcessor

    from dsr.tracking.models import masks_to_boxes

    model = Sam2VideoModel.from_pretrained(model_dir, dtype=torch.float32).eval()
    processor = Sam2VideoProcessor.from_pretrained(model_dir)
    session = processor.init_video_session(
        video=list(frames), inference_device="cpu", dtype=torch.float32
    )
    processor.add_inputs_to_inference_session(
        session, frame_idx=key, obj_ids=[1, 2], input_boxes=[[list(map(float, b)) for b in boxes]]
    )
    out = np.full((2, len(frames), 5), np.nan)
    with torch.inference_mode():
        for step in model.propagate_in_video_iterator(session, start_frame_idx=key, reverse=True):
            masks = (
                processor.post_process_masks(
                    [step.pred_masks], original_sizes=[frames.shape[1:3]], binarize=True
                )[0][:, 0]
                .bool()
                .numpy()
            )
            for row, obj in enumerate(step.object_ids):
                out[int(obj) - 1, step.frame_idx, :4] = masks_to_boxes(masks[row : row + 1])[0]
                out[int(obj) - 1, step.frame_idx, 4] = masks[row].mean()
    return out


def _tracked_before_each_pass(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, list[int]]]:
    """Records, as each propagation pass starts, its direction and the frames its session
    already holds tracked (not prompted) outputs of."""
    from transformers import Sam2VideoModel

    seen: list[tuple[bool, list[int]]] = []
    original = Sam2VideoModel.propagate_in_video_iterator

    def spy(self: Any, session: Any, *args: Any, reverse: bool = False, **kw: Any) -> Any:
        held = {
            int(f)
            for out in session.output_dict_per_obj.values()
            for f in out["non_cond_frame_outputs"]
        }
        seen.append((reverse, sorted(held)))
        return original(self, session, *args, reverse=reverse, **kw)

    monkeypatch.setattr(Sam2VideoModel, "propagate_in_video_iterator", spy)
    return seen


@pytest.mark.parametrize("state", ["shared", "fresh"])
def test_fresh_sam2_state_tracks_backward_without_the_forward_pass(
    tiny_sam2, moving_squares, monkeypatch, state: str
) -> None:
    from dsr.tracking.sam2_video import Sam2Propagator

    frames, key, boxes = moving_squares(6), 3, [CAT, BENCH]
    seen = _tracked_before_each_pass(monkeypatch)
    prop = Sam2Propagator(model=str(tiny_sam2), state=state).propagate(frames, key, boxes)
    assert prop.visited.all() and np.isfinite(prop.boxes).all()
    forward_tracked = [4, 5]  # frames after the key frame
    assert seen == [(False, []), (True, [] if state == "fresh" else forward_tracked)]
    if state == "fresh":  # the backward pass is the one a session of its own gives
        reference = _backward_only(tiny_sam2, frames, key, boxes)
        np.testing.assert_array_equal(prop.boxes[:, : key + 1], reference[:, : key + 1, :4])
        np.testing.assert_allclose(prop.area[:, : key + 1], reference[:, : key + 1, 4])


@pytest.mark.parametrize(
    ("first_valid", "state", "listed"),
    [(3, "shared", True), (3, "fresh", False), (0, "shared", False)],
)
def test_sam2_state_rule_is_listed_when_frames_before_the_key_frame_were_tracked_backward(
    moving_squares, prompt, short_validity, first_valid: int, state: str, listed: bool
) -> None:
    n = 10
    labels = [["cat"]] * first_valid + [["cat", "bench"]] * (n - first_valid)
    ann = Annotations(
        tuple(tuple((lab, CAT if lab == "cat" else BENCH) for lab in frame) for frame in labels),
        np.tile(CAT, (n, 1)),
        np.tile(BENCH, (n, 1)),
    )
    result = _tracker(short_validity, sam2_state=state).track(moving_squares(n), prompt, ann)
    assert result.validity.key_frame == first_valid
    assert ("sam2_state" in result.deviations) == listed
