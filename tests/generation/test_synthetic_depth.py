"""The synthetic world places under, front and behind: vertical placement, depth scale, painter's
occlusion and the true depth and entity maps, while left/right/top stay as they were.
"""

from __future__ import annotations

import numpy as np
import pytest

from dsr.generation.base import ENTITY_ANIMAL, ENTITY_OBJECT
from dsr.generation.synthetic import SyntheticConfig, SyntheticGenerator
from dsr.prompts import DSRPrompt, Relation, all_relations, parse_prompt

TINY = {"num_frames": 24, "height": 96, "width": 128, "scenario": "follow"}


def named(initial: str, final: str) -> DSRPrompt:
    return DSRPrompt("", "cat", "crate", Relation.coerce(initial), Relation.coerce(final), "walks")


def generate(initial: str, final: str, seed: int = 0, **options: object):  # noqa: ANN201
    cfg = SyntheticConfig(**{**TINY, **options})  # type: ignore[arg-type]
    return SyntheticGenerator(cfg).generate_one(named(initial, final), seed)


def centre(box: np.ndarray) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def test_under_places_the_animal_below_the_object_and_top_above() -> None:
    video = generate("under", "top")
    ann = video.annotations
    assert ann is not None and ann.depth is None and ann.entities is None  # no depth needed
    first, last = 0, len(ann.animal_boxes) - 1
    assert ann.animal_boxes[first][1] > ann.object_boxes[first][3]  # animal top below object
    assert ann.animal_boxes[last][3] < ann.object_boxes[last][1]  # animal bottom above object


@pytest.mark.parametrize(("initial", "final"), [("front", "behind"), ("behind", "front")])
def test_front_and_behind_order_depth_size_and_occlusion(initial: str, final: str) -> None:
    video = generate(initial, final, seed=3)
    ann = video.annotations
    assert ann is not None and ann.depth is not None and ann.entities is not None
    assert ann.depth.shape == ann.entities.shape == video.frames.shape[:3]
    for t, rel in ((0, initial), (len(video.frames) - 1, final)):
        animal, obj = ann.entities[t] == ENTITY_ANIMAL, ann.entities[t] == ENTITY_OBJECT
        d_animal, d_object = float(ann.depth[t][animal].mean()), float(ann.depth[t][obj].mean())
        assert (d_animal < d_object) == (rel == "front")
        a_box, o_box = ann.animal_boxes[t], ann.object_boxes[t]
        if rel == "front":  # painted last: the animal shows inside the object's box
            x1, y1, x2, y2 = o_box.astype(int)
            assert (ann.entities[t, y1 : y2 + 1, x1 : x2 + 1] == ENTITY_ANIMAL).any()
        else:  # painted first: the object cuts the animal off at its top edge
            assert a_box[3] + 1 == o_box[1]


def test_the_animal_in_front_looks_larger() -> None:
    """Apparent size ∝ 1 / distance: at 0.7 (front) the sprite is 1/0.7 the size at 1.0 (left)."""
    ann = generate("front", "left", seed=4).annotations
    assert ann is not None
    first, last = ann.animal_boxes[0], ann.animal_boxes[-1]
    ratio = (first[2] - first[0]) / (last[2] - last[0])
    assert 1.3 < ratio < 1.6


def test_boxes_and_detections_are_the_visible_extent() -> None:
    video = generate("left", "behind", seed=2)
    ann = video.annotations
    assert ann is not None and ann.entities is not None
    for t in range(len(video.frames)):
        ys, xs = np.nonzero(ann.entities[t] == ENTITY_ANIMAL)
        if ys.size == 0:
            assert np.isnan(ann.animal_boxes[t]).all()
            assert [label for label, _ in ann.detections[t]] == ["crate"]
        else:
            assert list(ann.animal_boxes[t]) == [xs.min(), ys.min(), xs.max(), ys.max()]


def test_relations_without_depth_render_as_before() -> None:
    """left/right/top: no depth maps, and the frames are the sprites over the background in the
    fixed order (object, then animal) as before."""
    prompt = parse_prompt(
        "A cat is on the left of a crate, then the cat walks to the top of the crate."
    )
    video = SyntheticGenerator(SyntheticConfig(**TINY)).generate_one(prompt, 0)
    assert video.annotations is not None and video.annotations.depth is None
    assert video.annotations.entities is None


def test_every_registered_relation_is_placed() -> None:
    for relation in all_relations():  # a relation it could not place would raise ConfigError
        other = Relation.LEFT if relation != Relation.LEFT else Relation.RIGHT
        video = generate(relation.value, other.value)
        assert video.annotations is not None and np.isfinite(video.annotations.animal_boxes).any()
