"""The ``pairs-vlm`` config: preference pairs whose reward is the VLM judge (the paper's reward
ablation, Table 3b), in the shape of ``pairs`` so that ``dsr train --pairs-config pairs-vlm`` trains
on it.

A sample is a *winner* when both its answers are YES and a *loser* otherwise. The qualifying rules
are those of ``pairs`` (docs/method.md §5): only samples that are valid in ``samples`` (the pool
``pairs`` draws from) and whose two answers parsed take part; a prompt needs at least two of them,
one winner and one loser. The rows are :func:`dsr.builders.pairs.make_pairs` applied to the VLM
score (the share of YES answers: 1, 0.5 or 0) with τ = 1, so ``chosen_scores``/``rejected_scores``
hold those shares and ``tau`` is 1.0.
"""

from __future__ import annotations

import polars as pl

from dsr.builders.pairs import PAIR_COLUMNS, PairsResult, make_pairs
from dsr.judge.analysis import verdicts

__all__ = ["PAIRS_VLM", "PAIRS_VLM_COLUMNS", "VLM_TAU", "vlm_pairs"]

PAIRS_VLM = "pairs-vlm"
#: Winner ⇔ VLM score ≥ 1 ⇔ both answers YES.
VLM_TAU = 1.0

PAIRS_VLM_COLUMNS: dict[str, str] = {
    **PAIR_COLUMNS,
    "chosen_ids": "sample ids (in `samples`) of all winners: valid samples whose two VLM answers "
    "are YES; per training step draw ONE at random (`dsr.builders.pairs.draw_pair`)",
    "rejected_ids": (
        "sample ids of all losers: valid samples with both answers parsed and not both YES"
    ),
    "chosen_scores": "VLM score of the winners (share of YES answers: 1.0)",
    "rejected_scores": "VLM scores of the losers (0.5: one YES, 0.0: none), same order",
    "n_valid": "valid samples of the prompt whose two answers parsed",
    "tau": "1.0: a winner needs both answers YES",
}


def vlm_pairs(judgments: pl.DataFrame, samples: pl.DataFrame) -> PairsResult:
    """The pairs of one model's ``judgments`` over ``samples`` (columns of ``make_pairs``)."""
    scored = samples.join(verdicts(judgments), on="sample_id", how="inner").with_columns(
        valid=pl.col("valid").fill_null(False) & pl.col("parsed"),
        dsr_score=pl.col("yes_share").cast(pl.Float64),
    )
    return make_pairs(scored, tau=VLM_TAU)
