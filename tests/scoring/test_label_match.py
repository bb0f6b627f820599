"""``label_match``: the authors' exact label test against our normalized one, and the frames where
they disagree (what a sample records as the ``label_match`` deviation)."""

from __future__ import annotations

import pytest

from dsr.errors import ConfigError
from dsr.scoring import FrameClass, ValidityConfig, classify_frames

V, M, R = FrameClass.VALID, FrameClass.MISS, FrameClass.REDUNDANT
SHORT = ValidityConfig(max_redundant=2, min_valid=3, min_run=3)

FRAMES = [
    [],  # miss either way
    ["cat"],  # miss either way
    ["cat", "box"],  # valid either way
    ["box", "cat"],  # valid either way (order)
    ["Cats", "box"],  # normalized: valid; exact: redundant
    ["cat", "boxes"],  # normalized: valid; exact: redundant
    ["cat ", "box"],  # normalized: valid (whitespace); exact: redundant
    ["cat", "dog"],  # redundant either way
    ["cat", "box", "box"],  # redundant either way
]


def _authors_rule(labels: list[str], animal: str, obj: str) -> FrameClass:
    """The authors' script, written out independently: fewer than 2 → miss, more than 2 →
    redundant, else valid iff sorted(labels) == sorted([animal, object])."""
    if len(labels) < 2:
        return M
    if len(labels) > 2:
        return R
    return V if sorted(labels) == sorted([animal, obj]) else R


def test_exact_mode_is_the_authors_rule() -> None:
    result = classify_frames(FRAMES, "cat", "box", label_match="exact")
    assert list(result.frame_classes) == [_authors_rule(f, "cat", "box") for f in FRAMES]
    assert list(result.frame_classes) == [M, M, V, V, R, R, R, R, R]
    assert result.normalized_labels == {} and result.label_match_frames == ()


def test_normalized_mode_lists_the_frames_exact_matching_would_classify_otherwise() -> None:
    result = classify_frames(FRAMES, "cat", "box")
    assert list(result.frame_classes) == [M, M, V, V, V, V, V, R, R]
    assert result.label_match_frames == (4, 5, 6)
    assert result.normalized_labels == {"Cats": "cat", "boxes": "box", "cat ": "cat"}


def test_the_deviation_can_decide_validity() -> None:
    frames = [["cat", "box"]] * 2 + [["Cats", "box"]] * 3
    normalized = classify_frames(frames, "cat", "box", SHORT)
    exact = classify_frames(frames, "cat", "box", SHORT, label_match="exact")
    assert (
        normalized.valid
        and normalized.key_frame == 0
        and normalized.label_match_frames == (2, 3, 4)
    )
    assert not exact.valid and exact.reason == "too_many_redundant" and exact.n_redundant == 3


def test_exact_labels_are_no_deviation() -> None:
    assert classify_frames([["cat", "box"]] * 5, "cat", "box").label_match_frames == ()


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="label_match='fuzzy'"):
        classify_frames(FRAMES, "cat", "box", label_match="fuzzy")
