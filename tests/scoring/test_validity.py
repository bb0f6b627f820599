"""Frame classes, the three validity rules with their exact edges, key frame, label matching."""

from __future__ import annotations

import pytest

from dsr.errors import ConfigError
from dsr.scoring import (
    FrameClass,
    LabelMatcher,
    ValidityConfig,
    classify_frames,
    decide_validity,
    normalize_label,
)

V, M, R = FrameClass.VALID, FrameClass.MISS, FrameClass.REDUNDANT


def test_frame_classes_from_labels() -> None:
    frames = [
        [],  # miss: nothing
        ["cat"],  # miss: one detection
        ["cat", "box"],  # valid
        ["box", "cat"],  # valid, any order
        ["cat", "box", "cat"],  # redundant: three detections
        ["cat", "cat"],  # redundant: two of the same
        ["cat", "dog"],  # redundant: not {animal, object}
    ]
    result = classify_frames(frames, "cat", "box")
    assert result.frame_classes == (M, M, V, V, R, R, R)
    assert result.frame_class_names[:3] == ["miss", "miss", "valid"]
    assert (result.n_valid, result.n_miss, result.n_redundant) == (2, 2, 3)
    assert result.unmatched_labels == ("dog",)


def test_valid_video_with_exact_labels_has_first_run_start_as_key_frame() -> None:
    frames = [["cat"]] * 3 + [["cat", "box"]] * 30
    result = classify_frames(frames, "cat", "box")
    assert result.valid and result.reason is None and result.key_frame == 3
    assert result.normalized_labels == {} and result.unmatched_labels == ()


@pytest.mark.parametrize(("n_redundant", "valid"), [(16, True), (17, False)])
def test_redundant_frames_edge(n_redundant: int, valid: bool) -> None:
    result = decide_validity([V] * 30 + [R] * n_redundant)
    assert result.valid is valid and result.n_redundant == n_redundant
    assert result.reason == (None if valid else "too_many_redundant")
    assert result.key_frame == (0 if valid else None)


@pytest.mark.parametrize(("n_valid", "valid"), [(19, False), (20, True)])
def test_valid_frames_edge(n_valid: int, valid: bool) -> None:
    result = decide_validity([M] * 5 + [V] * n_valid + [M] * 50)
    assert result.valid is valid and result.n_valid == n_valid
    assert result.reason == (None if valid else "too_few_valid")
    assert result.key_frame == (5 if valid else None)


def test_runs_of_three_are_not_enough() -> None:
    classes = ([V] * 3 + [M]) * 10  # 30 valid frames, longest run 3
    result = decide_validity(classes)
    assert not result.valid and result.reason == "no_valid_run" and result.key_frame is None


def test_a_run_of_four_makes_the_video_valid_and_gives_the_key_frame() -> None:
    classes = ([V] * 3 + [M]) * 10 + [R, V, V, V, V, M, V, V, V, V, V]
    result = decide_validity(classes)
    assert result.valid and result.key_frame == 41


def test_key_frame_is_the_start_of_the_first_long_enough_run() -> None:
    classes = [V, V, V, M, V, V, V, V, V, V, M] + [V] * 20
    assert decide_validity(classes).key_frame == 4


def test_reasons_are_checked_in_order() -> None:
    assert decide_validity([R] * 17).reason == "too_many_redundant"
    assert decide_validity([R] * 17 + [V] * 40).reason == "too_many_redundant"
    assert decide_validity(([V] * 3 + [M]) * 4).reason == "too_few_valid"
    assert decide_validity([]).reason == "too_few_valid"


def test_config_overrides_and_rejects_impossible_values() -> None:
    classes = [V] * 10 + [R] * 3
    assert not decide_validity(classes).valid
    config = ValidityConfig(max_redundant=2, min_valid=10, min_run=10)
    assert decide_validity(classes, config).reason == "too_many_redundant"
    config = ValidityConfig(max_redundant=3, min_valid=10, min_run=10)
    assert decide_validity(classes, config).key_frame == 0
    assert not decide_validity(classes, ValidityConfig(3, 10, 11)).valid
    with pytest.raises(ConfigError, match="min_run=0 must be at least 1"):
        ValidityConfig(min_run=0)
    with pytest.raises(ConfigError, match="max_redundant=-1 must be at least 0"):
        ValidityConfig(max_redundant=-1)


def test_decide_validity_accepts_class_names() -> None:
    assert decide_validity(["valid"] * 20).valid


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Cat", "cat"),
        ("  red   FOX. ", "red fox"),
        ("cats", "cat"),
        ("foxes", "fox"),
        ("benches", "bench"),
        ("bunnies", "bunny"),
        ("horses", "horse"),
        ("glasses", "glass"),
        ("grass", "grass"),
        ("bus", "bus"),
        ("Red Foxes", "red fox"),
        ("", ""),
    ],
)
def test_normalize_label(label: str, expected: str) -> None:
    assert normalize_label(label) == expected


def test_label_matching_normalizes_and_reports() -> None:
    frames = [["Cats", "box "], ["CAT", "boxes"], ["cat", "box"]] * 10
    result = classify_frames(frames, "cat", "box")
    assert result.valid and result.n_valid == 30
    assert result.normalized_labels == {"Cats": "cat", "box ": "box", "CAT": "cat", "boxes": "box"}


def test_label_matching_uses_the_head_noun_but_not_merged_or_split_words() -> None:
    frames = [["fox", "crate"], ["fo", "wooden crate"], ["cat dog", "crate"]]
    result = classify_frames(frames, "red fox", "wooden crate")
    assert result.frame_classes == (V, R, R)
    assert result.normalized_labels == {"fox": "red fox", "crate": "wooden crate"}
    assert result.unmatched_labels == ("cat dog", "fo")


def test_matcher_plural_of_short_nouns_and_shared_heads() -> None:
    matcher = LabelMatcher("bus", "box")
    assert [matcher.match(x) for x in ("buses", "boxes", "Bus")] == ["bus", "box", "bus"]
    shared = LabelMatcher("red fox", "grey fox")  # "fox" alone could be either: matches neither
    assert shared.match("fox") is None and shared.match("grey foxes") == "grey fox"
