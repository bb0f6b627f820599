"""Per-frame depth of the tracked entities: the pure-numpy values against hand computations, the
synthetic world's truth through the ``annotations`` tracker, a tiny Depth Anything loaded through
the production path, and the grounded tracker running it only for prompts placed in depth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dsr.generation.base import ENTITY_ANIMAL, ENTITY_OBJECT
from dsr.generation.synthetic import SyntheticConfig, SyntheticGenerator
from dsr.prompts import DSRPrompt, Relation, parse_prompt
from dsr.tracking.annotations import AnnotationTracker
from dsr.tracking.depth import (
    DepthAnythingEstimator,
    depth_track,
    needs_depth,
    occlusion_sign,
    relative_distance,
)
from dsr.tracking.grounded_sam2 import GroundedSam2Tracker
from dsr.tracking.grounding import AnnotationDetector
from dsr.tracking.sam2_video import Propagation
from dsr.tracking.tiny import save_tiny_depth_anything


def named(initial: str, final: str, middle: str | None = None) -> DSRPrompt:
    return DSRPrompt(
        "",
        "cat",
        "crate",
        Relation.coerce(initial),
        Relation.coerce(final),
        "walks",
        None if middle is None else Relation.coerce(middle),
    )


def test_needs_depth_only_for_front_and_behind() -> None:
    assert needs_depth(named("front", "left")) and needs_depth(named("top", "behind"))
    assert not needs_depth(named("under", "top"))
    assert needs_depth(named("left", "right", middle="front"))  # a three-stage middle counts
    assert not needs_depth(named("left", "right", middle="top"))
    assert not needs_depth(
        parse_prompt("A cat is on the left of a box, then the cat walks to the right of the box.")
    )


def test_relative_distance_and_medians_by_hand() -> None:
    distance = np.array([[[2.0, 4.0, 6.0], [2.0, 4.0, 10.0]]])  # 1 frame, 2×3; min 2, max 10
    assert np.allclose(relative_distance(distance)[0], [[0, 0.25, 0.5], [0, 0.25, 1.0]])
    animal = np.array([[[True, True, False], [True, False, False]]])  # rel 0, 0.25, 0
    obj = np.array([[[False, False, True], [False, False, True]]])  # rel 0.5, 1.0
    track = depth_track(distance, animal, obj)
    assert track.animal_depth[0] == 0.0 and track.object_depth[0] == 0.75
    empty = depth_track(distance, np.zeros_like(animal), obj)
    assert np.isnan(empty.animal_depth[0]) and empty.occlusion[0] == 0
    assert depth_track(None, animal, obj).columns() == {
        "animal_depth": [None],
        "object_depth": [None],
        "occlusion": [0.0],
    }


def _squares(gap: int) -> tuple[np.ndarray, np.ndarray]:
    animal, obj = np.zeros((12, 20), bool), np.zeros((12, 20), bool)
    animal[2:10, 2:8] = True
    obj[2:10, 8 + gap : 16 + gap] = True
    return animal, obj


@pytest.mark.parametrize(
    ("animal_d", "object_d", "gap", "expected"),
    [(0.2, 0.6, 0, 1.0), (0.8, 0.3, 0, -1.0), (0.2, 0.6, 6, 0.0), (0.5, 0.51, 0, 0.0)],
)
def test_occlusion_sign_at_the_shared_boundary(
    animal_d: float, object_d: float, gap: int, expected: float
) -> None:
    animal, obj = _squares(gap)
    rel = np.full(animal.shape, 1.0)
    rel[animal], rel[obj] = animal_d, object_d
    assert occlusion_sign(rel, animal, obj) == expected


SMALL = SyntheticConfig(num_frames=24, height=96, width=128, scenario="follow", jitter=0.005)


def _truth(video: Any) -> dict[str, np.ndarray]:
    """Reference: per frame, per-frame min-max rescaled true distance, median over true masks."""
    ann = video.annotations
    out: dict[str, list[float]] = {"animal": [], "object": []}
    for t in range(len(video.frames)):
        d = ann.depth[t].astype(np.float64)
        rel = (d - d.min()) / (d.max() - d.min())
        for name, entity in (("animal", ENTITY_ANIMAL), ("object", ENTITY_OBJECT)):
            pix = rel[ann.entities[t] == entity]
            out[name].append(float(np.median(pix)) if pix.size else float("nan"))
    return {k: np.array(v) for k, v in out.items()}


def test_annotation_tracker_gives_the_true_depth_values() -> None:
    prompt = named("front", "behind")
    video = SyntheticGenerator(SMALL).generate_one(prompt, 0)
    result = AnnotationTracker().track(video.frames, prompt, video.annotations)
    assert result.depth is not None
    truth = _truth(video)
    np.testing.assert_allclose(result.depth.animal_depth, truth["animal"], atol=2e-3)
    np.testing.assert_allclose(result.depth.object_depth, truth["object"], atol=2e-3)
    assert result.depth.occlusion[0] == 1.0 and result.depth.occlusion[-1] == -1.0
    assert result.depth.animal_depth[0] < result.depth.object_depth[0]
    assert result.depth.animal_depth[-1] > result.depth.object_depth[-1]
    left = parse_prompt(
        "A cat is on the left of a crate, then the cat walks to the top of the crate."
    )
    plain = SyntheticGenerator(SMALL).generate_one(left, 0)
    assert AnnotationTracker().track(plain.frames, left, plain.annotations).depth is None


@pytest.fixture(scope="module")
def tiny_depth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random Depth Anything from a small config, saved as a checkpoint folder."""
    return save_tiny_depth_anything(tmp_path_factory.mktemp("depth-anything"))


def test_depth_anything_is_batched_and_returns_minus_disparity(tiny_depth: Path) -> None:
    import torch
    from transformers import AutoImageProcessor, DepthAnythingForDepthEstimation

    frames = np.random.default_rng(0).integers(0, 255, (3, 40, 60, 3), dtype=np.uint8)
    got = DepthAnythingEstimator(model=str(tiny_depth), batch_size=2, device="cpu").distance(frames)
    model = DepthAnythingForDepthEstimation.from_pretrained(tiny_depth).eval()
    inputs = AutoImageProcessor.from_pretrained(tiny_depth)(
        images=list(frames), return_tensors="pt"
    )
    with torch.no_grad():
        disparity = model(**inputs).predicted_depth[:, None]
    expected = -torch.nn.functional.interpolate(disparity, size=(40, 60), mode="bilinear")[:, 0]
    assert got.shape == (3, 40, 60)
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-4)


class _MaskSam2:
    """SAM2 stand-in whose masks are the synthetic world's true visible masks."""

    device = "cpu"

    def __init__(self, entities: np.ndarray) -> None:
        self.entities = entities
        self.calls: list[bool] = []

    def propagate(
        self, frames: np.ndarray, key_frame: int, boxes: Any, keep_masks: bool = False
    ) -> Propagation:
        self.calls.append(keep_masks)
        masks = np.stack([self.entities == ENTITY_ANIMAL, self.entities == ENTITY_OBJECT])
        out = np.full((2, len(frames), 4), np.nan)
        for k in range(2):
            for t in range(len(frames)):
                ys, xs = np.nonzero(masks[k, t])
                if ys.size:
                    out[k, t] = (xs.min(), ys.min(), xs.max(), ys.max())
        area = masks.mean(axis=(2, 3))
        return Propagation(out, area, np.ones(len(frames), bool), masks if keep_masks else None)


def test_grounded_tracker_runs_depth_only_when_the_prompt_needs_it(tiny_depth: Path) -> None:
    prompt = named("behind", "front")
    video = SyntheticGenerator(SMALL).generate_one(prompt, 1)
    assert video.annotations is not None and video.annotations.entities is not None
    tracker = GroundedSam2Tracker(
        detector="unused",
        sam2="unused",
        depth_model=str(tiny_depth),
        depth_source="annotations",
        detector_backend=AnnotationDetector(),
    )
    stub = _MaskSam2(video.annotations.entities)
    tracker.propagator = stub  # type: ignore[assignment]
    result = tracker.track(video.frames, prompt, video.annotations)
    assert result.depth is not None and stub.calls == [True]
    truth = _truth(video)
    np.testing.assert_allclose(result.depth.animal_depth, truth["animal"], atol=2e-3)
    assert tracker.settings()["depth_settings"]["model"] == str(tiny_depth)

    short = SyntheticGenerator(
        SyntheticConfig(num_frames=10, height=48, width=64, scenario="follow", jitter=0.005)
    ).generate_one(prompt, 1)
    assert short.annotations is not None and short.annotations.entities is not None
    modelled = GroundedSam2Tracker(
        detector="unused",
        sam2="unused",
        depth_model=str(tiny_depth),
        depth_batch_size=4,
        device="cpu",
        validity={"min_valid": 4},
        detector_backend=AnnotationDetector(),
    )
    modelled.propagator = _MaskSam2(short.annotations.entities)  # type: ignore[assignment]
    got = modelled.track(short.frames, prompt, short.annotations).depth
    assert got is not None and got.animal_depth.shape == (10,)
    seen = (short.annotations.entities == ENTITY_ANIMAL).any(axis=(1, 2))
    assert np.isfinite(got.animal_depth[seen]).all() and np.isnan(got.animal_depth[~seen]).all()

    left = parse_prompt(
        "A cat is on the left of a crate, then the cat walks to the top of the crate."
    )
    plain = SyntheticGenerator(SMALL).generate_one(left, 0)
    modelled.propagator = stub  # type: ignore[assignment]
    stub.calls.clear()
    assert modelled.track(plain.frames, left, plain.annotations).depth is None
    assert stub.calls == [False]  # no masks kept, no depth model run
