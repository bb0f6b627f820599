"""Training data: the preference pairs of a dataset built by ``dsr build-videos`` (docs/method.md
§5).

:func:`resolve_dataset` (from :mod:`dsr.builders.dataset_source`) turns a local folder or a Hub
repo id into a local dataset folder. :func:`load_pair_set` reads the ``pairs`` and ``samples``
configs of one split (without video bytes) and checks them; :class:`PairSet` holds, per qualifying
prompt, its winners and losers.

Pair draws (:meth:`PairSet.draw`) are a pure function of the training seed and a draw index ``k``:
draws ``k = e·P … (e+1)·P − 1`` visit every one of the P prompts once, in an order shuffled per
``e``, and each visit picks one winner and one loser uniformly. The trainer's data loader assigns
indices to ranks and steps, so a draw is reproducible from (seed, step, rank) and a resumed run sees
exactly the draws of an uninterrupted one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dsr.builders.dataset_source import DatasetSource, iter_video_bytes, resolve_dataset
from dsr.builders.folder import DatasetFolder
from dsr.errors import DataError
from dsr.fileio import DATASET_PARQUET_FIX, parquet_errors

__all__ = [
    "DatasetSource",
    "PairSet",
    "PromptPairs",
    "iter_video_bytes",
    "load_pair_set",
    "resolve_dataset",
]

log = logging.getLogger(__name__)

#: Columns read from the samples config (the video bytes are streamed separately).
SAMPLE_FIELDS = (
    "sample_id",
    "prompt_id",
    "split",
    "prompt",
    "dsr_type",
    "seed",
    "valid",
    "dsr_score",
    "generator_settings",
)


@dataclass(frozen=True)
class PromptPairs:
    """One qualifying prompt: its text and the sample ids of its winners and losers."""

    prompt_id: str
    prompt: str
    chosen: tuple[str, ...]
    rejected: tuple[str, ...]


@dataclass(frozen=True)
class PairSet:
    """The qualifying prompts of one split, the samples they use, and the pair draws."""

    prompts: tuple[PromptPairs, ...]
    samples: dict[str, dict[str, Any]] = field(repr=False)
    tau: float | None = None
    derived: bool = False

    @property
    def sample_ids(self) -> list[str]:
        """Every sample a draw can pick, sorted."""
        return sorted({s for p in self.prompts for s in (*p.chosen, *p.rejected)})

    def draw(self, seed: int, k: int) -> tuple[PromptPairs, str, str]:
        """Draw ``k``: (prompt, winner id, loser id); see the module docstring."""
        n = len(self.prompts)
        epoch, position = divmod(k, n)
        order = np.random.default_rng([seed, 0x5A1, epoch]).permutation(n)
        prompt = self.prompts[int(order[position])]
        rng = np.random.default_rng([seed, 0xD4A, k])
        return (
            prompt,
            prompt.chosen[rng.integers(len(prompt.chosen))],
            prompt.rejected[rng.integers(len(prompt.rejected))],
        )

    def summary(self) -> dict[str, Any]:
        return {
            "prompts": len(self.prompts),
            "samples": len(self.sample_ids),
            "winners": sum(len(p.chosen) for p in self.prompts),
            "losers": sum(len(p.rejected) for p in self.prompts),
            "tau": self.tau,
            "pairs_rederived": self.derived,
        }


def _read(folder: DatasetFolder, config: str, split: str, columns: list[str] | None = None) -> Any:
    import polars as pl

    if config not in folder.config_names():
        built = ", ".join(folder.config_names()) or "none"
        raise DataError(
            f"{folder.root} has no `{config}` config (built: {built}): run `dsr build-videos` into "
            "it, or choose another with --pairs-config/--samples-config"
        )
    files = folder.data_files(config, split)
    if not files:
        raise DataError(
            f"{folder.root}: config `{config}` has no {split} split: train on a split "
            "it has (--split)"
        )
    frames = []
    for file in files:
        with parquet_errors(file, DATASET_PARQUET_FIX):
            frames.append(pl.read_parquet(file, columns=columns))
    return pl.concat(frames, how="diagonal_relaxed")


def _ids(row: dict[str, Any], name: str) -> tuple[str, ...]:
    """``chosen_ids`` (format 2) or ``chosen`` (format 1) of a pairs row."""
    value = row.get(f"{name}_ids", row.get(name))
    return tuple(value or ())


def load_pair_set(
    source: DatasetSource,
    *,
    pairs_config: str = "pairs",
    samples_config: str = "samples",
    split: str = "train",
    tau: float | None = None,
) -> PairSet:
    """The checked pairs of ``split``; with ``tau``, winners and losers re-derived
    from the samples."""
    folder = DatasetFolder(source.root)
    samples_df = _read(folder, samples_config, split, list(SAMPLE_FIELDS))
    if tau is not None:
        from dsr.builders.pairs import make_pairs

        rows = make_pairs(samples_df.filter(samples_df["split"] == split), tau=tau).pairs.to_dicts()
    else:
        rows = _read(folder, pairs_config, split).to_dicts()
    prompts = tuple(
        PromptPairs(r["prompt_id"], r.get("prompt") or "", _ids(r, "chosen"), _ids(r, "rejected"))
        for r in rows
        if _ids(r, "chosen") and _ids(r, "rejected")
    )
    # only the samples a draw can pick are kept as dicts: the split may hold many more
    used = sorted({s for p in prompts for s in (*p.chosen, *p.rejected)})
    kept = samples_df.filter(samples_df["sample_id"].is_in(used))
    shared: dict[str, str] = {}
    samples = {r["sample_id"]: _share_strings(r, shared) for r in kept.iter_rows(named=True)}
    pair_set = PairSet(
        prompts, samples, tau=tau if tau is not None else _built_tau(rows), derived=tau is not None
    )
    _check(pair_set, source, pairs_config, split)
    return pair_set


def _share_strings(row: dict[str, Any], shared: dict[str, str]) -> dict[str, Any]:
    """``row`` with each string value replaced by the first equal string seen: the samples of one
    prompt or one generator repeat their prompt, type and settings JSON, which then cost one copy
    (the pair set is held for the whole run, one row per paired video)."""
    for key, value in row.items():
        if isinstance(value, str):
            row[key] = shared.setdefault(value, value)
    return row


def _built_tau(rows: list[dict[str, Any]]) -> float | None:
    taus = {r.get("tau") for r in rows if r.get("tau") is not None}
    return taus.pop() if len(taus) == 1 else None


def _check(pairs: PairSet, source: DatasetSource, pairs_config: str, split: str) -> None:
    if not pairs.prompts:
        raise DataError(
            f"{pairs_config} ({split}) of {source.repo_id or source.root} has no qualifying prompt "
            "(each needs a valid winner and a valid loser): build more samples per prompt, or "
            "change --tau-train"
        )
    missing = [s for s in pairs.sample_ids if s not in pairs.samples]
    if missing:
        raise DataError(
            f"{len(missing)} sample id(s) of {pairs_config} are not in the samples config "
            f"(first: {missing[0]}): rebuild the pairs with `dsr build-videos --merge-only`"
        )
    bad = [
        s
        for s in pairs.sample_ids
        if not pairs.samples[s].get("valid") or pairs.samples[s].get("dsr_score") is None
    ]
    if bad:
        raise DataError(
            f"{len(bad)} sample(s) in {pairs_config} are invalid in samples (first: {bad[0]}): "
            "invalid samples never enter pairs; rebuild the pairs with `dsr "
            "build-videos --merge-only`"
        )
