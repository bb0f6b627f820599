"""Balanced, disjoint train/test selection from a pool of accepted prompts.

Each split gets ``n // k`` prompts of every one of its k DSR types (the paper's six by default), and
the first ``n % k`` types (in :attr:`DSRType.order`: the paper's A–F first) one more. The splits
never share a sentence (the pool is de-duplicated) and, with ``disjoint="triple"``, never share an
(animal, object, scene) triple. A candidate that carries a split hint (a file with a ``split``
column) only goes to that split, ahead of unhinted ones.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from dsr.builders.prompt_records import Accepted
from dsr.prompts import DSRType

__all__ = ["DISJOINT_MODES", "Selection", "quotas", "select_splits"]

DISJOINT_MODES = ("triple", "sentence")
SPLITS = ("train", "test")


def quotas(n: int, types: Sequence[DSRType] | None = None) -> dict[DSRType, int]:
    """As even as possible over ``types`` (default: the paper's six); the remainder goes to the
    first types (A, B, … for the paper's)."""
    chosen = tuple(DSRType) if types is None else tuple(types)
    base, extra = divmod(n, len(chosen))
    return {t: base + (i < extra) for i, t in enumerate(chosen)}


@dataclass(frozen=True)
class Selection:
    train: list[Accepted]
    test: list[Accepted]
    shortfall: dict[DSRType, int]  # prompts still missing per type, both splits together

    @property
    def complete(self) -> bool:
        return not any(self.shortfall.values())


def select_splits(
    pool: Sequence[Accepted],
    n_train: int,
    n_test: int,
    seed: int,
    disjoint: str = "triple",
    types: Sequence[DSRType] | None = None,
) -> Selection:
    """Pick the test split first (it is smaller), then train from what does not collide with it.
    Only prompts of ``types`` (default: the paper's six) are picked."""
    rng = random.Random(f"dsr-split:{seed}")
    kinds = tuple(DSRType) if types is None else tuple(types)
    by_type: dict[DSRType, list[Accepted]] = {t: [] for t in kinds}
    for entry in pool:
        if entry.prompt.dsr_type in by_type:
            by_type[entry.prompt.dsr_type].append(entry)
    for entries in by_type.values():
        rng.shuffle(entries)
    picked: dict[str, list[Accepted]] = {"train": [], "test": []}
    shortfall = {t: 0 for t in kinds}
    used: set[int] = set()
    test_triples: set[tuple[str, str, str]] = set()
    for split, n in (("test", n_test), ("train", n_train)):
        for dsr_type, quota in quotas(n, kinds).items():
            chosen = _take(
                by_type[dsr_type], split, quota, used, test_triples if split == "train" else set()
            )
            picked[split].extend(chosen)
            shortfall[dsr_type] += quota - len(chosen)
        if disjoint == "triple" and split == "test":
            test_triples = {e.triple for e in picked["test"]}
    return Selection(picked["train"], picked["test"], shortfall)


def _take(
    entries: list[Accepted],
    split: str,
    quota: int,
    used: set[int],
    banned: set[tuple[str, str, str]],
) -> list[Accepted]:
    ordered = [e for e in entries if e.split_hint == split] + [
        e for e in entries if e.split_hint is None
    ]
    chosen: list[Accepted] = []
    for entry in ordered:
        if len(chosen) == quota:
            break
        if id(entry) in used or entry.triple in banned:
            continue
        used.add(id(entry))
        chosen.append(entry)
    return chosen
