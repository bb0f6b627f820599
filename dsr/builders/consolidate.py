"""Merge the finished samples of every shard into the ``samples``, ``tracks`` and ``pairs`` configs.

Rows are sorted by (split, prompt_id, seed), so the result does not depend on how the work was
sharded (each parquet file takes every n-th row of that order, see :mod:`dsr.builders.folder`).
Videos are embedded as bytes in the parquet shards (a ``datasets.Video`` column), so the folder
loads locally and after a push. ``tracks`` holds the same rows without the video, for analysis
that should not download the mp4 bytes. Tabular steps (summary, pairs) use polars.

Disk: each parquet shard is written straight from the work-area files (its rows' mp4 bytes read
when that shard is written), with no staged copy of the rows; the work area stays the source of
truth (the new files are moved in only once all are complete, and a killed merge is redone from
it). So a merge needs free space for the videos once more (:func:`merge_disk_need`), where staging
an Arrow copy first needed it twice (``benchmarks/bench_merge_disk.py`` measures both).
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsr.builders.folder import ConfigRecord, DatasetFolder, stored_features
from dsr.builders.pairs import DEFAULT_TAU_TRAIN, PAIR_COLUMNS, make_pairs, pair_splits
from dsr.builders.samples import SAMPLE_COLUMNS, current_row, sample_features
from dsr.builders.work import WorkArea
from dsr.errors import DiskSpaceError
from dsr.layout import ASSETS_DIR, FORMAT_VERSION
from dsr.scoring import CorrectnessCurve, correctness, plot_correctness

if TYPE_CHECKING:
    import datasets
    import polars as pl  # imported where used: importing this module (the CLI's --help) stays light
    import pyarrow as pa

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
#: Free space a merge needs beyond the videos: the other columns, card, plots, pairs.
MERGE_MARGIN_BYTES = 64 << 20
#: Rows read from the work area into Python objects at once.
_ROW_BATCH = 256

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


def _sample_files(work: WorkArea, split: str) -> list[tuple[Path, Path | None]]:
    """(json path, mp4 path or None) of each finished sample, sorted by (prompt_id, seed)."""
    found = [(row["prompt_id"], int(row["seed"]), js, mp4) for row, js, mp4 in work.rows(split)]
    return [(js, mp4) for _pid, _seed, js, mp4 in sorted(found, key=lambda x: x[:2])]


def _light_table(files: list[tuple[Path, Path | None]], features: datasets.Features) -> pa.Table:
    """The rows of ``files`` without their videos, in the current schema, as one Arrow table
    (read in batches: never a Python object per value of every row at once)."""
    import pyarrow as pa

    schema = features.arrow_schema.remove_metadata()
    tables = [schema.empty_table()]
    for start in range(0, len(files), _ROW_BATCH):
        rows = []
        for json_path, _ in files[start : start + _ROW_BATCH]:
            row = current_row(json.loads(json_path.read_text(encoding="utf-8")))
            rows.append({k: row[k] for k in features})
        tables.append(pa.Table.from_pylist(rows, schema=schema))
    return pa.concat_tables(tables).combine_chunks()


class _WorkSplit:
    """One split of the work area as a :class:`~dsr.builders.folder.SplitSource`: the rows without
    videos held as one Arrow table, each shard's videos read from the work-area mp4s only when that
    shard is written. So a merge stages no copy of the videos: beside the work area (kept, as it is
    what a killed merge resumes from) it needs room for the parquet files only, plus one shard in
    memory (see :func:`merge_disk_need`)."""

    def __init__(self, light: pa.Table, mp4s: list[Path | None] | None) -> None:
        self._light, self._mp4s = light, mp4s
        declared = sample_features()
        if mp4s is None:
            del declared["video"]
        self._features = declared
        self._stored = stored_features(declared)

    @property
    def features(self) -> datasets.Features:
        return self._features

    @property
    def num_rows(self) -> int:
        return self._light.num_rows

    @property
    def num_bytes(self) -> int:
        """The Arrow size of the rows: the light columns, and the video bytes with their names
        and offsets (as ``datasets`` counts a ``Video`` column of embedded bytes)."""
        videos = sum(p.stat().st_size + len(p.name) + 8 for p in self._mp4s or () if p)
        return int(self._light.nbytes) + videos

    def shard(self, index: int, count: int) -> datasets.Dataset:
        import pyarrow as pa
        from datasets import Dataset
        from datasets.info import DatasetInfo
        from datasets.table import InMemoryTable

        rows = list(range(index, self.num_rows, count))
        table = self._light.take(rows)
        if self._mp4s is not None:
            videos = [self._video(self._mp4s[i]) for i in rows]
            video_type = self._stored.arrow_schema.field("video").type
            table = table.append_column("video", pa.array(videos, type=video_type))
            table = table.select(list(self._stored))
        return Dataset(InMemoryTable(table), info=DatasetInfo(features=self._stored))

    @staticmethod
    def _video(mp4: Path | None) -> dict[str, Any] | None:
        return {"bytes": mp4.read_bytes(), "path": mp4.name} if mp4 else None


def _work_splits(work: WorkArea, split: str) -> tuple[_WorkSplit, _WorkSplit]:
    """The ``samples`` and ``tracks`` sources of one split (one reading of the rows for both)."""
    files = _sample_files(work, split)
    light = sample_features()
    del light["video"]
    table = _light_table(files, stored_features(light))
    return _WorkSplit(table, [mp4 for _, mp4 in files]), _WorkSplit(table, None)


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
    result = _merge(folder, work, tau_train, rows_per_shard, command, settings)
    work.mark_merged(stamp)
    return result


def merge_disk_need(work: WorkArea) -> tuple[int, int]:
    """(bytes of the finished mp4s, free bytes a merge needs). The merge reads the work-area mp4s
    (kept: they are its input, and what a killed merge resumes from) one shard at a time straight
    into the new parquet files, staged until all are complete: the videos once more come on top of
    what is on disk (on a re-merge the old parquet files, already on disk, are replaced only at the
    end)."""
    videos = sum(mp4.stat().st_size for s in work.splits() for _, _, mp4 in work.rows(s) if mp4)
    return videos, videos + MERGE_MARGIN_BYTES


def check_merge_disk(folder: DatasetFolder, work: WorkArea) -> None:
    """Log what the merge needs, and refuse before writing anything when the disk lacks it."""
    videos, need = merge_disk_need(work)
    free = shutil.disk_usage(folder.root).free
    log.info(
        "the merge writes %s of parquet files for %s of videos; %s free",
        _size(need),
        _size(videos),
        _size(free),
    )
    if free < need:
        raise DiskSpaceError(
            f"the merge of {folder.root} needs {_size(need)} free (the parquet files of "
            f"{_size(videos)} of videos) but its disk has {_size(free)}: free space, then "
            "re-run (build-videos --merge-only merges what is finished; nothing is lost)"
        )


def _size(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def _merge(
    folder: DatasetFolder,
    work: WorkArea,
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
    sources = {split: _work_splits(work, split) for split in result.samples}
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
    samples = {split: pair[0] for split, pair in sources.items()}
    folder.write_config("samples", samples, record, max_rows_per_shard=rows_per_shard)
    _write_tracks(folder, {split: pair[1] for split, pair in sources.items()}, command, settings)
    _write_pairs(folder, df, tau_train, result, command, settings)
    return result


def _write_tracks(
    folder: DatasetFolder, tracks: dict[str, _WorkSplit], command: str, settings: dict[str, Any]
) -> None:
    record = ConfigRecord(
        description="The rows of `samples` without the `video` column: boxes, frame classes, "
        "validity, SSR sequences and DSR-Scores, for analysis (load_dataset, polars, duckdb) that "
        "should not download the mp4 bytes. Join with `samples` on `sample_id` for a video.",
        columns=dict(TRACK_COLUMNS),
        command=command,
        settings=settings,
    )
    folder.write_config("tracks", tracks, record)


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
