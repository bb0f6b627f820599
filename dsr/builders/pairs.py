"""The ``pairs`` config: DPO preference data from scored samples (docs/method.md §5), with polars.

A valid sample scoring at least ``tau`` is a *winner*, a valid one below ``tau`` a *loser*, an
invalid one neither. A prompt qualifies with at least two valid samples, one winner and one loser.

Shape: **one row per qualifying prompt** holding *all* its winners (``chosen_ids``) and losers
(``rejected_ids``) as lists of sample ids, with their seeds (``chosen_seeds``, ``rejected_seeds``)
and scores (``chosen_scores``, ``rejected_scores``) in the same order: every
``chosen_*``/``rejected_*`` column is a list parallel to the ids. No column is named bare
``chosen``/``rejected``, which TRL's preference format reserves for *content*. A DPO data loader
draws one winner and one loser per
prompt per step (the paper's sampling, docs/method.md §5), e.g. with :func:`draw_pair`::

    pairs = load_dataset(folder, "pairs", split="train")
    videos = {r["sample_id"]: r["video"] for r in load_dataset(folder, "samples", split="train")}
    rng = random.Random(step_seed)
    chosen_id, rejected_id = draw_pair(pairs[i], rng)   # then videos[chosen_id], videos[rejected_id]

The full winner × loser product is ``len(chosen_ids) * len(rejected_ids)`` and never needs storing.
Videos are referenced by ``sample_id`` in the ``samples`` config, not copied. Dataset format 1 named
the id lists ``chosen``/``rejected``; :func:`pair_ids` (and so :func:`draw_pair`) reads both.
"""  # noqa: E501

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dsr.errors import ConfigError

if TYPE_CHECKING:
    import polars as pl  # imported where used: importing this module (the CLI's --help) stays light

__all__ = [
    "DEFAULT_TAU_TRAIN",
    "DROP_REASONS",
    "LEGACY_PAIR_COLUMNS",
    "PAIR_COLUMNS",
    "PairsResult",
    "draw_pair",
    "make_pairs",
    "pair_ids",
    "pair_splits",
]

DEFAULT_TAU_TRAIN = 0.7
DROP_REASONS = ("fewer_than_2_valid", "no_winner", "no_loser")

PAIR_COLUMNS: dict[str, str] = {
    "prompt_id": "id of the prompt in the `prompts` config",
    "split": "train or test",
    "prompt": "the prompt sentence (TRL naming)",
    "dsr_type": "DSR type code",
    "chosen_ids": "sample ids (in `samples`) of all winners (valid, DSR-Score ≥ tau), best first; "
    "per training step draw ONE at random, e.g. `random.choice(row['chosen_ids'])` "
    "(`dsr.builders.pairs.draw_pair`)",
    "rejected_ids": "sample ids of all losers (valid, DSR-Score < tau), worst first; per step draw "
    "ONE at random, independently of the winner",
    "chosen_seeds": "seeds of the winners, same order",
    "rejected_seeds": "seeds of the losers, same order",
    "chosen_scores": "DSR-Scores of the winners, same order",
    "rejected_scores": "DSR-Scores of the losers, same order",
    "n_samples": "samples of the prompt, invalid included",
    "n_valid": "valid samples of the prompt",
    "tau": "the threshold tau_train separating winners from losers",
}

#: Names of format 1 (``dsr_build.json`` ``format_version`` 1) → current names.
LEGACY_PAIR_COLUMNS = {"chosen": "chosen_ids", "rejected": "rejected_ids"}

_NEEDED = ("sample_id", "prompt_id", "split", "prompt", "dsr_type", "seed", "valid", "dsr_score")


@dataclass(frozen=True)
class PairsResult:
    """The pairs table and, per split, the number of prompts kept and dropped per reason."""

    pairs: pl.DataFrame
    counts: dict[str, dict[str, int]]


def _frame(samples: pl.DataFrame | Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    import polars as pl

    if isinstance(samples, pl.DataFrame):
        df = samples
    else:
        df = pl.DataFrame(
            [{k: r.get(k) for k in _NEEDED} for r in samples],
            schema={
                "sample_id": pl.String,
                "prompt_id": pl.String,
                "split": pl.String,
                "prompt": pl.String,
                "dsr_type": pl.String,
                "seed": pl.Int64,
                "valid": pl.Boolean,
                "dsr_score": pl.Float64,
            },
        )
    missing = [c for c in _NEEDED if c not in df.columns]
    if missing:
        raise ConfigError(f"samples lack column(s) {missing} needed for pairs")
    return df.select(_NEEDED)


def make_pairs(
    samples: pl.DataFrame | Iterable[Mapping[str, Any]], tau: float = DEFAULT_TAU_TRAIN
) -> PairsResult:
    """Group samples by prompt, label winners and losers, keep the prompts that qualify."""
    import polars as pl

    if not 0.0 <= tau <= 1.0:
        raise ConfigError(f"tau_train={tau} must lie in [0, 1] (the paper uses 0.7)")
    df = _frame(samples).with_columns(
        valid=pl.col("valid").fill_null(False) & pl.col("dsr_score").is_not_null()
    )
    df = df.with_columns(
        winner=pl.col("valid") & (pl.col("dsr_score") >= tau),
        loser=pl.col("valid") & (pl.col("dsr_score") < tau),
    )
    win = df.filter("winner").sort(["dsr_score", "seed"], descending=[True, False])
    lose = df.filter("loser").sort(["dsr_score", "seed"])
    keys = ["split", "prompt_id"]
    stats = df.group_by(keys).agg(
        pl.col("prompt").first(),
        pl.col("dsr_type").first(),
        n_samples=pl.len().cast(pl.Int64),
        n_valid=pl.col("valid").sum().cast(pl.Int64),
        n_win=pl.col("winner").sum(),
        n_lose=pl.col("loser").sum(),
    )
    stats = stats.with_columns(
        drop=pl.when(pl.col("n_valid") < 2)
        .then(pl.lit(DROP_REASONS[0]))
        .when(pl.col("n_win") == 0)
        .then(pl.lit(DROP_REASONS[1]))
        .when(pl.col("n_lose") == 0)
        .then(pl.lit(DROP_REASONS[2]))
        .otherwise(None)
    )
    chosen = win.group_by(keys, maintain_order=True).agg(
        chosen_ids=pl.col("sample_id"),
        chosen_seeds=pl.col("seed"),
        chosen_scores=pl.col("dsr_score"),
    )
    rejected = lose.group_by(keys, maintain_order=True).agg(
        rejected_ids=pl.col("sample_id"),
        rejected_seeds=pl.col("seed"),
        rejected_scores=pl.col("dsr_score"),
    )
    kept = (
        stats.filter(pl.col("drop").is_null())
        .join(chosen, on=keys)
        .join(rejected, on=keys)
        .with_columns(tau=pl.lit(float(tau)))
        .sort(keys)
        .select(list(PAIR_COLUMNS))
    )
    return PairsResult(kept, _counts(stats))


def pair_splits(pairs: pl.DataFrame, splits: Iterable[str]) -> dict[str, Any]:
    """``datasets.Dataset`` per split of a pairs table (the typed features of :data:`PAIR_COLUMNS`);
    a split without qualifying prompts is an empty dataset."""
    import polars as pl
    from datasets import Dataset, Features, List, Value

    ids, seeds, scores = List(Value("string")), List(Value("int64")), List(Value("float64"))
    features = Features(
        {
            "prompt_id": Value("string"),
            "split": Value("string"),
            "prompt": Value("string"),
            "dsr_type": Value("string"),
            "chosen_ids": ids,
            "rejected_ids": ids,
            "chosen_seeds": seeds,
            "rejected_seeds": seeds,
            "chosen_scores": scores,
            "rejected_scores": scores,
            "n_samples": Value("int64"),
            "n_valid": Value("int64"),
            "tau": Value("float64"),
        }
    )
    return {
        s: Dataset.from_dict(
            pairs.filter(pl.col("split") == s).to_dict(as_series=False), features=features
        )
        for s in splits
    }


def pair_ids(row: Mapping[str, Any], side: str) -> list[str]:
    """The winner (``side="chosen"``) or loser (``"rejected"``) sample ids of a ``pairs`` row, from
    ``chosen_ids``/``rejected_ids`` or, in a format-1 row, ``chosen``/``rejected``."""
    if side not in LEGACY_PAIR_COLUMNS:
        raise ValueError(f"side={side!r}: choose 'chosen' or 'rejected'")
    name = LEGACY_PAIR_COLUMNS[side]
    value = row[name] if name in row else row.get(side)
    return list(value or ())


def draw_pair(row: Mapping[str, Any], rng: random.Random) -> tuple[str, str]:
    """One (winner, loser) of a ``pairs`` row, each drawn uniformly (docs/method.md §5: one winner
    and one loser per prompt per training step; the scores are not used by the loss)."""
    return rng.choice(pair_ids(row, "chosen")), rng.choice(pair_ids(row, "rejected"))


def _counts(stats: pl.DataFrame) -> dict[str, dict[str, int]]:
    import polars as pl

    out: dict[str, dict[str, int]] = {}
    for split in sorted(stats["split"].unique().to_list()):
        part = stats.filter(pl.col("split") == split)
        counts = {"prompts": part.height, "kept": int(part["drop"].is_null().sum())}
        for reason in DROP_REASONS:
            counts[f"dropped_{reason}"] = int((part["drop"] == reason).sum())
        out[split] = counts
    return out
