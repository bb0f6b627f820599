"""The DSR-Score's box check: ours leaves out a frame with a box of zero width or height (a mask one
pixel tall gives one, as box extents are inclusive); the authors' scorer skips a frame only for a
zero mean width, a zero mean height, or a zero width of either box. ``box_check="authors"`` must
give their numbers; a sample whose score our check changed says so (``thin_box``)."""

from __future__ import annotations

import numpy as np
import pytest

from dsr.builders.samples import build_sample
from dsr.generation.base import Annotations, GeneratedVideo
from dsr.scoring import ScoreConfig, ValidityConfig, dsr_score
from dsr.tracking.annotations import AnnotationTracker

N = 24


def _authors_score(animal: np.ndarray, obj: np.ndarray, dsr_type: str) -> float | None:
    """The arithmetic of the authors' ``calc_dsr_score.py``, frame by frame (L/R/T types)."""
    initial, final = [], []
    for a, o in zip(animal, obj, strict=True):
        aw, sw = a[2] - a[0], o[2] - o[0]
        width_max, height_max = 0.5 * (aw + sw), 0.5 * ((a[3] - a[1]) + (o[3] - o[1]))
        if width_max == 0 or height_max == 0 or aw == 0 or sw == 0:
            continue
        dx = 0.5 * (a[0] + a[2]) - 0.5 * (o[0] + o[2])
        dy = 0.5 * (a[1] + a[3]) - 0.5 * (o[1] + o[3])
        norm = np.hypot(dx, dy)
        cos_x = 0.0 if norm == 0 else dx / norm
        cos_y = 0.0 if norm == 0 else dy / norm
        reward = {
            "L": -cos_x * np.clip(abs(dx / width_max), 0, 1),
            "R": cos_x * np.clip(abs(dx / width_max), 0, 1),
            "T": -cos_y * np.clip(abs(dy / height_max), 0, 1),
        }
        initial.append(reward[dsr_type[0]])
        final.append(reward[dsr_type[1]])
    if len(initial) < 20:
        return None
    r_i, r_f = np.asarray(initial), np.asarray(final)
    return float(
        (r_i[:3].mean() + 0.5 * (r_i[0] - r_i[-1]) + r_f[-3:].mean() + 0.5 * (r_f[-1] - r_f[0])) / 8
        + 0.5
    )


def _tracks(thin: list[int], narrow: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """An animal moving from the left of the object to its top-right; its mask is one pixel tall in
    ``thin`` frames (y1 == y2) and one pixel wide in ``narrow`` frames (x1 == x2)."""
    x = np.linspace(2.0, 60.0, N)
    y = np.linspace(40.0, 10.0, N)
    animal = np.stack([x, y, x + 10, y + 8], axis=1)
    animal[thin, 3] = animal[thin, 1]
    animal[narrow, 2] = animal[narrow, 0]
    obj = np.tile([30.0, 30.0, 44.0, 46.0], (N, 1))
    return animal, obj


@pytest.mark.parametrize("dsr_type", ["LR", "LT", "TR"])
def test_authors_box_check_gives_the_authors_score(dsr_type: str) -> None:
    animal, obj = _tracks(thin=[0, 5, 6, 23], narrow=[9])
    rel = {"L": "left", "R": "right", "T": "top"}
    theirs = _authors_score(animal, obj, dsr_type)
    got = dsr_score(animal, obj, rel[dsr_type[0]], rel[dsr_type[1]], box_check="authors")
    assert theirs is not None and got.n_frames == N - 1  # only the one-pixel-wide frame is out
    assert got.score == pytest.approx(theirs, abs=1e-12)
    ours = dsr_score(animal, obj, rel[dsr_type[0]], rel[dsr_type[1]])
    assert ours.n_frames == N - 5 and ours.n_degenerate_frames == 5
    assert got.n_degenerate_frames == 1 and ours.score != pytest.approx(theirs, abs=1e-6)


def test_too_few_frames_is_decided_on_the_frames_the_check_keeps() -> None:
    animal, obj = _tracks(thin=[1, 2, 3, 4, 5], narrow=[])
    assert not dsr_score(animal, obj, "left", "right").valid  # 19 of the 20 frames needed
    assert dsr_score(animal, obj, "left", "right", box_check="authors").valid


def _sample(score: ScoreConfig, thin: list[int]) -> dict:
    animal, obj = _tracks(thin=thin, narrow=[])
    dets = tuple((("cat", tuple(a)), ("bench", tuple(o))) for a, o in zip(animal, obj, strict=True))
    video = GeneratedVideo(
        np.zeros((N, 48, 64, 3), dtype=np.uint8), 8, 0, {}, Annotations(dets, animal, obj)
    )
    record = {
        "prompt_id": "p",
        "prompt": "In a room, a cat is on the left of a bench, then the cat walks to the right "
        "of the bench.",
    }
    tracker = AnnotationTracker(ValidityConfig(max_redundant=16, min_valid=20, min_run=4))
    return build_sample(record, 0, video, tracker, score=score)


def test_a_sample_names_thin_box_when_our_check_changed_it() -> None:
    ours, theirs = _sample(ScoreConfig(), [3, 4]), _sample(ScoreConfig(box_check="authors"), [3, 4])
    assert ours["deviations"] == ["thin_box"] and theirs["deviations"] == []
    assert (ours["n_usable_frames"], theirs["n_usable_frames"]) == (N - 2, N)
    assert theirs["score_settings"]["box_check"] == "authors"
    assert _sample(ScoreConfig(), [])["deviations"] == []
