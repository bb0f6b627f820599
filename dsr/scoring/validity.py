"""Frame classes and video validity from per-frame detections (docs/method.md §3).

A frame is ``miss`` with fewer than 2 detections, ``redundant`` with more than 2 or with 2 whose
labels are not exactly {animal, object}, and ``valid`` otherwise. A video is invalid when more than
``max_redundant`` (16) frames are redundant, when fewer than ``min_valid`` (20) are valid, or when
no run of ``min_run`` (4) consecutive valid frames exists; otherwise the first frame of the first
such run is the key frame.

Labels are matched in one of two modes (``LABEL_MATCH_MODES``):

- ``normalized`` (default): after normalization (case, whitespace, punctuation, simple plurals, then
  the head noun); every non-exact match is reported, and so are the frames whose class differs from
  what exact matching gives (``Validity.label_match_frames``), so a sample says whether this
  deviation from the authors' code changed it;
- ``exact``: the authors' rule, ``sorted(labels) == sorted([animal, object])`` on the labels as the
  detector returned them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from dsr.errors import ConfigError

__all__ = [
    "LABEL_MATCH_MODES",
    "FrameClass",
    "LabelMatcher",
    "Validity",
    "ValidityConfig",
    "check_label_match",
    "classify_frames",
    "decide_validity",
    "normalize_label",
]

#: How detector labels are matched to the prompt's nouns: ``normalized`` (ours) or
#: ``exact`` (the authors').
LABEL_MATCH_MODES = ("normalized", "exact")


class FrameClass(str, enum.Enum):
    VALID = "valid"
    MISS = "miss"
    REDUNDANT = "redundant"


TOO_MANY_REDUNDANT = "too_many_redundant"
TOO_FEW_VALID = "too_few_valid"
NO_VALID_RUN = "no_valid_run"


@dataclass(frozen=True)
class ValidityConfig:
    """Thresholds of the validity rules (defaults: the paper's)."""

    max_redundant: int = field(
        default=16, metadata={"help": "invalid above this many redundant frames"}
    )
    min_valid: int = field(default=20, metadata={"help": "invalid below this many valid frames"})
    min_run: int = field(
        default=4, metadata={"help": "length of the valid run that picks the key frame"}
    )

    def __post_init__(self) -> None:
        for name in ("max_redundant", "min_valid", "min_run"):
            if getattr(self, name) < 0 or (name == "min_run" and self.min_run < 1):
                floor = 1 if name == "min_run" else 0
                raise ConfigError(
                    f"ValidityConfig.{name}={getattr(self, name)} must be at least {floor} "
                    "(the paper uses max_redundant=16, min_valid=20, min_run=4)"
                )


@dataclass(frozen=True)
class Validity:
    """The validity decision of one video."""

    valid: bool
    reason: str | None
    key_frame: int | None
    frame_classes: tuple[FrameClass, ...]
    n_valid: int
    n_miss: int
    n_redundant: int
    normalized_labels: dict[str, str] = field(default_factory=dict)
    unmatched_labels: tuple[str, ...] = ()
    label_match_frames: tuple[int, ...] = ()

    @property
    def frame_class_names(self) -> list[str]:
        return [c.value for c in self.frame_classes]


#: Simple English plurals, tried in order on the last word (first match wins): "bunnies" → "bunny",
#: "glasses" → "glass", "foxes"/"benches" → "fox"/"bench", "horses" → "horse", "cats" → "cat".
#: Words of three letters or fewer ("bus", "fox") and words in -ss ("grass") are left alone.
_PLURAL_RULES = (
    (re.compile(r"(?<=\w\w)ies$"), "y"),
    (re.compile(r"(ss|x|z|ch|sh)es$"), r"\1"),
    (re.compile(r"(?<!s)s$"), ""),
)


def normalize_label(label: str) -> str:
    """Lower case, single spaces, no punctuation, last word singular ("Red  Foxes." → "red fox")."""
    words = re.sub(r"[^\w\s-]", " ", str(label).lower()).split()
    if not words:
        return ""
    last = words[-1]
    if len(last) > 3:
        for pattern, repl in _PLURAL_RULES:
            if pattern.search(last):
                last = pattern.sub(repl, last)
                break
    return " ".join([*words[:-1], last])


def _forms(noun: str) -> set[str]:
    """Normalized forms a detector label may take for ``noun``: the noun itself and its plurals
    ("bus" → {"bus", "buse"}, since "buses" normalizes to "buse")."""
    return {normalize_label(noun), normalize_label(noun + "s"), normalize_label(noun + "es")} - {""}


class LabelMatcher:
    """Maps raw detector labels to the prompt's animal or object, recording what it normalized.

    A label matches a noun when it normalizes to one of the noun's forms; failing that, when it
    normalizes to the head (last word) of exactly one of the two nouns ("fox" → "red fox").
    ``normalized`` maps every label that matched only after normalization to its noun;
    ``unmatched`` collects the labels that named neither.
    """

    def __init__(self, animal: str, obj: str) -> None:
        self.animal, self.object = animal, obj
        self._norm: dict[str, str] = {}
        self._heads: dict[str, str] = {}
        for noun in (animal, obj):
            for key in _forms(noun):
                self._norm.setdefault(key, noun)
        head_a = _forms(normalize_label(animal).split(" ")[-1])
        head_o = _forms(normalize_label(obj).split(" ")[-1])
        if not head_a & head_o:  # a head shared by both nouns names neither
            self._heads = {**dict.fromkeys(head_a, animal), **dict.fromkeys(head_o, obj)}
        self.normalized: dict[str, str] = {}
        self.unmatched: set[str] = set()

    def match(self, label: str) -> str | None:
        """The prompt noun this label names, or None."""
        if label in (self.animal, self.object):
            return label
        key = normalize_label(label)
        name = self._norm.get(key) or self._heads.get(key)
        if name is None:
            self.unmatched.add(label)
        else:
            self.normalized[label] = name
        return name


def check_label_match(mode: str) -> None:
    """Refuse a label matching mode other than ``normalized`` and ``exact``."""
    if mode not in LABEL_MATCH_MODES:
        raise ConfigError(
            f"label_match={mode!r}: choose normalized (ours, the default) or exact (the authors')"
        )


def _frame_class(labels: Sequence[str], valid: bool) -> FrameClass:
    if len(labels) < 2:
        return FrameClass.MISS
    if len(labels) > 2:
        return FrameClass.REDUNDANT
    return FrameClass.VALID if valid else FrameClass.REDUNDANT


def _exact_pair(labels: Sequence[str], animal: str, obj: str) -> bool:
    """The authors' test: ``sorted(labels) == sorted([animal, object])``, strings as given."""
    return sorted(labels) == sorted([animal, obj])


def classify_frames(
    labels_per_frame: Sequence[Sequence[str]],
    animal: str,
    obj: str,
    config: ValidityConfig | None = None,
    *,
    label_match: str = "normalized",
) -> Validity:
    """Classify every frame from its detection labels and decide the video's validity.

    With ``label_match="normalized"`` the result also lists the frames whose class exact matching
    would have made different (``label_match_frames``)."""
    check_label_match(label_match)
    matcher = LabelMatcher(animal, obj)
    exact = [_frame_class(labels, _exact_pair(labels, animal, obj)) for labels in labels_per_frame]
    if label_match == "exact":
        return decide_validity(exact, config)
    target = {animal, obj}
    classes = [
        _frame_class(labels, len(labels) == 2 and {matcher.match(x) for x in labels} == target)
        for labels in labels_per_frame
    ]
    return decide_validity(
        classes,
        config,
        normalized_labels=matcher.normalized,
        unmatched_labels=tuple(sorted(matcher.unmatched)),
        label_match_frames=tuple(
            t for t, (a, b) in enumerate(zip(classes, exact, strict=True)) if a != b
        ),
    )


def decide_validity(
    frame_classes: Iterable[FrameClass | str],
    config: ValidityConfig | None = None,
    *,
    normalized_labels: dict[str, str] | None = None,
    unmatched_labels: tuple[str, ...] = (),
    label_match_frames: tuple[int, ...] = (),
) -> Validity:
    """Apply the three validity rules to frame classes and find the key frame."""
    cfg = config or ValidityConfig()
    classes = tuple(FrameClass(c) for c in frame_classes)
    is_valid = np.fromiter((c is FrameClass.VALID for c in classes), dtype=bool, count=len(classes))
    n_valid = int(is_valid.sum())
    n_red = sum(c is FrameClass.REDUNDANT for c in classes)
    key = first_run_start(is_valid, cfg.min_run)
    reason = None
    if n_red > cfg.max_redundant:
        reason = TOO_MANY_REDUNDANT
    elif n_valid < cfg.min_valid:
        reason = TOO_FEW_VALID
    elif key is None:
        reason = NO_VALID_RUN
    return Validity(
        valid=reason is None,
        reason=reason,
        key_frame=key if reason is None else None,
        frame_classes=classes,
        n_valid=n_valid,
        n_miss=len(classes) - n_valid - n_red,
        n_redundant=n_red,
        normalized_labels=dict(normalized_labels or {}),
        unmatched_labels=unmatched_labels,
        label_match_frames=label_match_frames,
    )


def first_run_start(flags: np.ndarray, min_run: int) -> int | None:
    """Index of the first frame of the first run of ``min_run`` consecutive True values."""
    if len(flags) < min_run:
        return None
    window = np.convolve(flags.astype(np.int64), np.ones(min_run, dtype=np.int64), mode="valid")
    hits = np.flatnonzero(window == min_run)
    return int(hits[0]) if hits.size else None
