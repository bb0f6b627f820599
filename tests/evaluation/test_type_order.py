"""Evaluation breakdowns list the DSR types beyond the paper's six after them, by name."""

from __future__ import annotations

from dsr.evaluation.breakdown import type_name
from dsr.evaluation.dsr_metrics import SampleOutcome, per_type


def _sample(i: int, code: str, score: float | None) -> SampleOutcome:
    return SampleOutcome(f"p{i}", 0, code, score is not None, score, None if score else "x")


def test_per_type_lists_the_papers_types_first_then_the_new_ones_then_unknown_codes() -> None:
    codes = ["ZZ", "UF", "LR", "BT", "LT", "LTR"]
    blocks = per_type([_sample(i, c, 0.8) for i, c in enumerate(codes)])
    assert list(blocks) == ["LT", "LR", "UF", "BT", "LTR", "ZZ"]
    assert blocks["UF"].n_samples == 1


def test_type_names_spell_out_every_relation() -> None:
    assert type_name("LT") == "left → top"
    assert type_name("UF") == "under → front"
    assert type_name("LTR") == "left → top → right"
    assert type_name("ZZ") == "ZZ"
