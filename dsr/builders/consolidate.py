"""Merge the finished samples of every shard into the ``samples``, ``tracks`` and ``pairs`` configs.

Rows are sorted by (split, prompt_id, seed), so the result does not depend on how the work was
sharded (each parquet file takes every n-th row of that order, see :mod:`dsr.builders.folder`).
Videos are embedded as bytes in the parquet shards (a ``datasets.Video`` column), so the folder
loads locally and after a push. ``tracks`` holds the same rows without the video, for analysis
that should not download the mp4 bytes. Tabular steps (summary, pairs) use polars.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsr.builders.folder import ConfigRecord, DatasetFolder
from dsr.builders.pairs import DEFAULT_TAU_TRAIN, PAIR_COLUMNS, make_pairs, pair_splits
from dsr.builders.samples import SAMPLE_COLUMNS, current_row, sample_features
from dsr.builders.work import WorkArea
from dsr.errors import DiskSpaceError
from dsr.layout import ASSETS_DIR, FORMAT_VERSION
from dsr.scoring import CorrectnessCurve, correctness, plot_correctness

if TYPE_CHECKING:
    import datasets
    import polars as pl  # imported where used: importing this module (the CLI's --help) stays light

__all__ = [
    "TRACK_COLUMNS",
    "ConsolidateResult",
    "consolidate",
    "deviation_counts",
    "merge_disk_need",
    "samples_frame",
    "summarize",
]

log = logging.getLogger(__name__)

#: The ``tracks`` config: every ``samples`` column but the video.
TRACK_COLUMNS = {c: h for c, h in SAMPLE_COLUMNS.items() if c != "video"}
#: Configs a merge writes.
MERGED_CONFIGS = ("samples", "tracks", "pairs")
#: Free space a merge needs beyond twice the videos: the other columns, card, plots, pairs.
MERGE_MARGIN_BYTES = 64 << 20

_TABLE_COLUMNS = (
    "sample_id",
    "prompt_id",
    "split",
    "seed",
    "prompt",
    "dsr_type",
    "valid",
    "reason",
    "dsr_score",
    "n_degenerate_frames",
    "deviations",
)


@dataclass
class ConsolidateResult:
    """What the merge wrote: rows per split, curves, validity and pair counts, and per split how
    many samples each rule beyond the authors' code changed (``deviations``: ``changed`` counts
    samples changed by any)."""

    samples: dict[str, int] = field(default_factory=dict)
    curves: dict[str, CorrectnessCurve] = field(default_factory=dict)
    validity: dict[str, dict[str, int]] = field(default_factory=dict)
    pairs: dict[str, dict[str, int]] = field(default_factory=dict)
    deviations: dict[str, dict[str, int]] = field(default_factory=dict)
    assets: list[Path] = field(default_factory=list)


def samples_frame(work: WorkArea) -> pl.DataFrame:
    """The finished rows of all splits (without videos, in the current schema), sorted by (split,
    prompt_id, seed)."""
    import polars as pl

    rows = [
        {k: current_row(row)[k] for k in _TABLE_COLUMNS}
        for split in work.splits()
        for row, _, _ in work.rows(split)
    ]
    return pl.DataFrame(
        rows,
        schema={
            "sample_id": pl.String,
            "prompt_id": pl.String,
            "split": pl.String,
            "seed": pl.Int64,
            "prompt": pl.String,
            "dsr_type": pl.String,
            "valid": pl.Boolean,
            "reason": pl.String,
            "dsr_score": pl.Float64,
            "n_degenerate_frames": pl.Int64,
            "deviations": pl.List(pl.String),
        },
    ).sort(["split", "prompt_id", "seed"])


def _generate(files: list[tuple[str, str]]) -> Iterator[dict[str, Any]]:
    for json_path, mp4_path in files:
        row = json.loads(Path(json_path).read_text(encoding="utf-8"))
        if mp4_path:
            row["video"] = {"bytes": Path(mp4_path).read_bytes(), "path": Path(mp4_path).name}
        yield current_row(row)


def _sample_files(work: WorkArea, split: str) -> list[tuple[str, str]]:
    """(json path, mp4 path or "") of each finished sample, sorted by (prompt_id, seed)."""
    found = [
        (row["prompt_id"], int(row["seed"]), str(js), str(mp4) if mp4 else "")
        for row, js, mp4 in work.rows(split)
    ]
    return [(js, mp4) for _pid, _seed, js, mp4 in sorted(found)]


def _dataset(work: WorkArea, split: str, cache: Path) -> datasets.Dataset:
    from datasets import Dataset, Value

    files = _sample_files(work, split)
    stamp = hashlib.sha1(
        json.dumps([(j, Path(j).stat().st_mtime_ns, m) for j, m in files]).encode()
    ).hexdigest()
    # Written with the video as a plain {bytes, path} struct, then cast to Video: same storage,
    # but encoding through Video would import torchcodec (and torch) for nothing (~8 s).
    features = sample_features()
    plain = features.copy()
    plain["video"] = {"bytes": Value("binary"), "path": Value("string")}
    ds = Dataset.from_generator(
        _generate,
        features=plain,
        gen_kwargs={"files": files},
        cache_dir=str(cache),
        fingerprint=f"dsr-samples-{split}-{stamp}",
    )
    return ds.cast_column("video", features["video"])


def _validity_counts(df: pl.DataFrame) -> dict[str, dict[str, int]]:
    import polars as pl

    out: dict[str, dict[str, int]] = {}
    for split in df["split"].unique().sort().to_list():
        part = df.filter(pl.col("split") == split)
        counts = {"samples": part.height, "valid": int(part["valid"].fill_null(False).sum())}
        for reason, n in (
            part.filter(~pl.col("valid").fill_null(False))
            .group_by("reason")
            .len()
            .sort("reason")
            .iter_rows()
        ):
            counts[f"invalid_{reason}"] = int(n)
        degenerate = int(part["n_degenerate_frames"].fill_null(0).sum())
        if degenerate:  # boxes given with zero or negative width/height: why frames went unused
            counts["frames_with_degenerate_boxes"] = degenerate
        out[split] = counts
    return out


def deviation_counts(df: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Per split: samples changed by any deviation (``changed``) and by each one."""
    import polars as pl

    out: dict[str, dict[str, int]] = {}
    for split in df["split"].unique().sort().to_list():
        lists = df.filter(pl.col("split") == split)["deviations"].fill_null([]).to_list()
        counts = {"changed": sum(bool(x) for x in lists)}
        for name in sorted({d for x in lists for d in x}):
            counts[name] = sum(name in x for x in lists)
        out[split] = counts
    return out


def _curve_table(curves: dict[str, CorrectnessCurve]) -> str:
    if not curves:
        return ""
    taus = next(iter(curves.values())).thresholds
    head = "| split | " + " | ".join(f"τ={t:.1f}" for t in taus) + " |"
    sep = "|---|" + "---|" * len(taus)
    rows = [
        f"| {s} | " + " | ".join(f"{v:.3f}" for v in c.values) + " |" for s, c in curves.items()
    ]
    return "\n".join([head, sep, *rows])


def _samples_markdown(result: ConsolidateResult, plot: str) -> str:
    validity = "\n".join(
        f"| {s} | " + ", ".join(f"{k}: {v}" for k, v in counts.items()) + " |"
        for s, counts in result.validity.items()
    )
    deviations = "\n".join(
        f"| {s} | " + ", ".join(f"{k}: {v}" for k, v in counts.items()) + " |"
        for s, counts in result.deviations.items()
    )
    return (
        "**Correctness@τ** (invalid samples count as failures)\n\n"
        f"{_curve_table(result.curves)}\n\n"
        f"![correctness curve]({plot})\n\n**Validity**\n\n| split | counts |\n|---|---|\n"
        f"{validity}\n\n"
        "**Samples changed by rules beyond the authors' code** (column `deviations`)\n\n"
        f"| split | counts |\n|---|---|\n{deviations}\n"
    )


def summarize(
    folder: DatasetFolder, tau_train: float = DEFAULT_TAU_TRAIN
) -> tuple[pl.DataFrame, ConsolidateResult]:
    """The finished samples and what a merge reports about them (rows, curves, validity and pair
    counts), without writing anything."""
    import polars as pl

    df = samples_frame(WorkArea(folder))
    result = ConsolidateResult(
        validity=_validity_counts(df),
        pairs=make_pairs(df, tau_train).counts,
        deviations=deviation_counts(df),
    )
    for split in df["split"].unique().sort().to_list():
        part = df.filter(pl.col("split") == split)
        result.samples[split] = part.height
        result.curves[split] = correctness(part["dsr_score"].to_list())
    return df, result


def _build_records(
    work: WorkArea, command: str, settings: dict[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    """Command(s) and settings for the card: per split, as each split's build recorded them in the
    work area (so building ``test`` after ``train`` keeps both, and ``--merge-only`` loses none);
    the caller's own when no build recorded any (e.g. ``score-videos``)."""
    builds = {s: b for s in work.splits() if (b := work.build_record(s))}
    if not builds:
        return command, dict(settings or {})
    commands = "\n".join(dict.fromkeys(b["command"] for b in builds.values() if b.get("command")))
    return commands or command, {split: b["settings"] for split, b in builds.items()}


def _up_to_date(folder: DatasetFolder, work: WorkArea, stamp: str) -> bool:
    configs = folder.read_record().get("configs", {})
    present = all(c in configs and any(folder.root.glob(f"{c}/*.parquet")) for c in MERGED_CONFIGS)
    return present and work.merged_stamp() == stamp


def consolidate(
    folder: DatasetFolder,
    *,
    tau_train: float = DEFAULT_TAU_TRAIN,
    rows_per_shard: int | None = 200,
    command: str = "",
    settings: dict[str, Any] | None = None,
    skip_if_unchanged: bool = False,
) -> ConsolidateResult:
    """Write ``samples``, ``tracks`` and ``pairs`` from the work area; update plots,
    record and card.

    ``rows_per_shard`` caps the rows of one ``samples`` file; every file also stays under
    :data:`~dsr.builders.folder.SHARD_BYTES`.

    With ``skip_if_unchanged``, nothing is written when the configs already hold exactly the
    finished samples (same files, build records, ``tau_train`` and sharding): a re-run of a
    finished build is a no-op. One merge at a time: a second one raises :class:`BusyError` at once.
    """
    with WorkArea(folder).merging():
        return _consolidate(folder, tau_train, rows_per_shard, command, settings, skip_if_unchanged)


def _consolidate(
    folder: DatasetFolder,
    tau_train: float,
    rows_per_shard: int | None,
    command: str,
    settings: dict[str, Any] | None,
    skip_if_unchanged: bool,
) -> ConsolidateResult:
    work = WorkArea(folder)
    for path in [*folder.remove_leftovers(), *work.remove_leftovers()]:
        log.info("removed %s, left by a killed run", path)
    stamp = work.stamp(tau_train, rows_per_shard, settings, FORMAT_VERSION)
    if skip_if_unchanged and _up_to_date(folder, work, stamp):
        log.info("samples and pairs in %s are up to date: nothing written", folder.root)
        return summarize(folder, tau_train)[1]
    check_merge_disk(folder, work)
    with folder.staging("cache") as cache:  # the Arrow copies of the rows, deleted after the write
        result = _merge(folder, work, cache, tau_train, rows_per_shard, command, settings)
    work.mark_merged(stamp)
    return result


def merge_disk_need(work: WorkArea) -> tuple[int, int]:
    """(bytes of the finished mp4s, free bytes a merge needs). The merge reads the work-area mp4s
    (kept: they are its input, and what a killed merge resumes from), stages an Arrow copy of every
    row, and writes the parquet files next to it before the copy is deleted: twice the videos
    come on top of what is on disk (on a re-merge the old parquet files, already on disk, are
    replaced only at the end)."""
    videos = sum(mp4.stat().st_size for s in work.splits() for _, _, mp4 in work.rows(s) if mp4)
    return videos, 2 * videos + MERGE_MARGIN_BYTES


def check_merge_disk(folder: DatasetFolder, work: WorkArea) -> None:
    """Log what the merge needs, and refuse before writing anything when the disk lacks it."""
    videos, need = merge_disk_need(work)
    free = shutil.disk_usage(folder.root).free
    log.info(
        "the merge stages and writes %s for %s of videos; %s free",
        _size(need),
        _size(videos),
        _size(free),
    )
    if free < need:
        raise DiskSpaceError(
            f"the merge of {folder.root} needs {_size(need)} free (a staging copy and the parquet "
            f"files of {_size(videos)} of videos) but its disk has {_size(free)}: free space, then "
            "re-run (build-videos --merge-only merges what is finished; nothing is lost)"
        )


def _size(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def _merge(
    folder: DatasetFolder,
    work: WorkArea,
    cache: Path,
    tau_train: float,
    rows_per_shard: int | None,
    command: str,
    settings: dict[str, Any] | None,
) -> ConsolidateResult:
    df, result = summarize(folder, tau_train)
    command, settings = _build_records(work, command, settings)
    plot_name = f"{ASSETS_DIR}/samples_correctness.png"
    if result.curves:
        result.assets.append(
            plot_correctness(result.curves, folder.root / plot_name, title="Samples: Correctness@τ")
        )
    datasets = {split: _dataset(work, split, cache) for split in result.samples}
    record = ConfigRecord(
        description="One row per (prompt, seed): the generated video, per-frame boxes and frame "
        "classes, validity with its reason, SSR sequences, and the DSR-Score with its components.",
        columns=dict(SAMPLE_COLUMNS),
        counts={
            "validity": result.validity,
            "correct@0.7": {s: c.at(0.7) for s, c in result.curves.items()},
            "deviations": result.deviations,
        },
        command=command,
        settings=settings,
        card_markdown=_samples_markdown(result, plot_name),
    )
    folder.write_config("samples", datasets, record, max_rows_per_shard=rows_per_shard)
    _write_tracks(folder, datasets, command, settings)
    _write_pairs(folder, df, tau_train, result, command, settings)
    return result


def _write_tracks(
    folder: DatasetFolder, samples: dict[str, Any], command: str, settings: dict[str, Any]
) -> None:
    record = ConfigRecord(
        description="The rows of `samples` without the `video` column: boxes, frame classes, "
        "validity, SSR sequences and DSR-Scores, for analysis (load_dataset, polars, duckdb) that "
        "should not download the mp4 bytes. Join with `samples` on `sample_id` for a video.",
        columns=dict(TRACK_COLUMNS),
        command=command,
        settings=settings,
    )
    folder.write_config(
        "tracks", {s: ds.remove_columns("video") for s, ds in samples.items()}, record
    )


def _write_pairs(
    folder: DatasetFolder,
    df: pl.DataFrame,
    tau: float,
    result: ConsolidateResult,
    command: str,
    settings: dict[str, Any],
) -> None:
    pairs = make_pairs(df, tau)
    splits = pair_splits(pairs.pairs, df["split"].unique().sort().to_list())
    counts_md = "\n".join(
        f"| {s} | " + ", ".join(f"{k}: {v}" for k, v in c.items()) + " |"
        for s, c in pairs.counts.items()
    )
    record = ConfigRecord(
        description=(
            f"DPO preference data (τ_train = {tau}): one row per qualifying prompt with ALL its "
            "winners (`chosen_ids`, valid and DSR-Score ≥ τ) and losers (`rejected_ids`, valid and "
            "< τ) as sample ids of the `samples` config, with their seeds and scores in parallel "
            "lists. A prompt qualifies with ≥ 2 valid samples, ≥ 1 winner and ≥ 1 loser; a DPO "
            "loader draws one winner and one loser per prompt per step: "
            "`random.choice(row['chosen_ids'])`, `random.choice(row['rejected_ids'])` "
            "(`dsr.builders.pairs.draw_pair`), and looks their videos up in `samples` "
            "by `sample_id`."
        ),
        columns=dict(PAIR_COLUMNS),
        counts={"prompts": pairs.counts},
        command=command,
        settings={**settings, "tau_train": tau},
        card_markdown=(
            f"**Prompts kept and dropped**\n\n| split | counts |\n|---|---|\n{counts_md}\n"
        ),
    )
    folder.write_config("pairs", splits, record)
