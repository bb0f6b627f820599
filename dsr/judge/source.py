"""The samples a judge run asks about: the ``samples`` config of a dataset folder, or of a Hub
dataset at a revision (only its build record and ``samples`` files are downloaded, as ``dsr train``
downloads its data), with the sha256 of each sample's mp4 (the content part of the cache key)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import polars as pl

from dsr.builders.dataset_source import DatasetSource, iter_video_bytes, resolve_dataset
from dsr.builders.folder import DatasetFolder
from dsr.errors import DataError

__all__ = ["SAMPLE_FIELDS", "first_of_each_split", "iter_videos", "open_source", "sample_table"]

#: Columns of ``samples`` the judge reads besides the video.
SAMPLE_FIELDS = (
    "sample_id",
    "prompt_id",
    "split",
    "seed",
    "prompt",
    "animal",
    "object",
    "initial",
    "final",
    "dsr_type",
    "valid",
    "dsr_score",
    "r_init",
    "r_final",
    "width",
    "height",
)
_BATCH_ROWS = 16


def open_source(source: str, revision: str | None, splits: list[str]) -> DatasetSource:
    """The local folder holding the ``samples`` config of ``source`` (downloaded split by split)."""
    resolved = None
    for split in splits:
        resolved = resolve_dataset(source, revision, configs=("samples",), split=split)
    assert resolved is not None  # JudgeOptions refuses an empty split list
    built = DatasetFolder(resolved.root).config_names()
    if "samples" not in built:
        raise DataError(
            f"{source} has no `samples` config (built: {', '.join(built) or 'none'}): judge a "
            "dataset built by `dsr build-videos` or `dsr score-videos`"
        )
    return resolved


def _split_rows(folder: DatasetFolder, split: str) -> list[dict[str, object]]:
    import pyarrow.parquet as pq

    rows = []
    for path in folder.data_files("samples", split):
        names = set(pq.read_schema(path).names)
        missing = [c for c in (*SAMPLE_FIELDS, "video") if c not in names]
        if missing:
            raise DataError(
                f"{path.name} lacks column(s) {missing}: rebuild the samples with `dsr "
                "build-videos --merge-only` (or score the videos again)"
            )
        for batch in pq.ParquetFile(path).iter_batches(
            batch_size=_BATCH_ROWS, columns=[*SAMPLE_FIELDS, "video"]
        ):
            for row in batch.to_pylist():
                data = (row.pop("video") or {}).get("bytes")
                row["video_sha256"] = hashlib.sha256(data).hexdigest() if data else None
                rows.append(row)
    return rows


def sample_table(source: DatasetSource, splits: list[str]) -> pl.DataFrame:
    """One row per sample of ``splits`` (sorted by split, prompt and seed), with ``video_sha256``
    (null for a sample without a video)."""
    folder = DatasetFolder(source.root)
    frames = []
    for split in splits:
        rows = _split_rows(folder, split)
        if rows:
            frames.append(pl.DataFrame(rows, infer_schema_length=None).sort(["prompt_id", "seed"]))
    if not frames:
        raise DataError(
            f"{source.repo_id or source.root} has no samples in split(s) {', '.join(splits)}: "
            "choose the splits it has with --split"
        )
    return pl.concat(frames, how="diagonal_relaxed")


def first_of_each_split(samples: pl.DataFrame, limit: int | None) -> pl.DataFrame:
    """The first ``limit`` samples of each split, in the table's order (all of them
    without a limit)."""
    if limit is None:
        return samples
    return samples.filter(pl.int_range(pl.len()).over("split") < limit)


def iter_videos(
    source: DatasetSource, wanted: set[str], splits: list[str]
) -> Iterator[tuple[str, bytes]]:
    """(sample_id, mp4 bytes) of the ``wanted`` samples, streamed in small batches."""
    for split in splits:
        for sample_id, data in iter_video_bytes(source, wanted, split=split):
            if data:
                yield sample_id, data
