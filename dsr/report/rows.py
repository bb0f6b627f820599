"""Reading what a report shows: sample rows (without their video bytes), pairs, per-sample eval
values and the embedded mp4 bytes, one batch at a time.

Rows pass through :func:`dsr.builders.samples.current_row`, so a folder of format 1 (null boxes
where absent, no presence flags) reads like a current one. A file that cannot be read is a
:class:`~dsr.errors.ReportInputError`, collected, and the other files are still read.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsr.builders.samples import SAMPLE_COLUMNS, current_row
from dsr.errors import ReportInputError
from dsr.report.source import ReportSource, data_files, split_names

__all__ = ["SampleRows", "eval_values", "iter_videos", "read_pairs", "read_samples"]

#: Columns that identify a row; everything else of an ``eval`` config that is a number is a metric.
_ID_COLUMNS = ("sample_id", "prompt_id", "split", "seed")
#: Rows of video bytes held in memory at once.
VIDEO_BATCH_ROWS = 16


@dataclass
class SampleRows:
    """The rows of the chosen samples config, the files they came from, and the problems met."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    has_video_column: bool = False
    problems: list[ReportInputError] = field(default_factory=list)


def _unreadable(path: Path, source: ReportSource, exc: Exception) -> ReportInputError:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    rel = path.relative_to(source.root).as_posix()
    return ReportInputError(f"{source.label}: {rel} is not a readable parquet file ({first}): its rows are "
                            "left out of the report; rebuild the config (dsr build-videos --merge-only) or "
                            "download it again")


def _table_rows(path: Path, skip: tuple[str, ...] = ("video",)) -> tuple[list[dict[str, Any]], bool]:
    """The rows of one parquet file without the ``skip`` columns, and whether it had a video column."""
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    table = pq.read_table(path, columns=[c for c in names if c not in skip])
    return table.to_pylist(), "video" in names


def read_samples(source: ReportSource, config: str, splits: tuple[str, ...] = ()) -> SampleRows:
    """The rows of ``config`` (every split, or ``splits``) in the current schema, sorted by
    (split, prompt_id, seed); a config that is missing or has no ``sample_id`` is a problem."""
    out = SampleRows()
    available = split_names(source, config)
    if not available:
        out.problems.append(ReportInputError(
            f"{source.label} has no {config} config: the report shows no samples; build one with "
            f"`dsr build-videos` or `dsr score-videos` into this folder, or choose another --config"))
        return out
    for split in splits or tuple(available):
        if split not in available:
            out.problems.append(ReportInputError(
                f"{source.label}: the {config} config has no split {split!r} (it has {', '.join(available)}): "
                "choose one of those with --split"))
            continue
        _read_split(source, config, split, out)
    out.rows.sort(key=lambda r: (str(r.get("split") or ""), str(r.get("prompt_id") or ""), r.get("seed") or 0))
    return out


def _read_split(source: ReportSource, config: str, split: str, out: SampleRows) -> None:
    for path in data_files(source, config, split):
        try:
            rows, has_video = _table_rows(path)
        except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
            out.problems.append(_unreadable(path, source, exc))
            continue
        if rows and "sample_id" not in rows[0]:
            out.problems.append(ReportInputError(
                f"{source.label}: {path.relative_to(source.root).as_posix()} has no sample_id column, so it is "
                "not a samples config: give --config samples (or tracks)"))
            continue
        out.files.append(path)
        out.has_video_column |= has_video
        for row in rows:
            row = current_row(row) | {k: v for k, v in row.items() if k not in SAMPLE_COLUMNS}
            row["split"] = row.get("split") or split
            out.rows.append(row)


def read_pairs(source: ReportSource, splits: tuple[str, ...]) -> tuple[list[dict[str, Any]], list[ReportInputError]]:
    """The rows of the ``pairs`` config of ``splits`` ([] when the folder has none)."""
    rows: list[dict[str, Any]] = []
    problems: list[ReportInputError] = []
    for split in split_names(source, "pairs"):
        if splits and split not in splits:
            continue
        for path in data_files(source, "pairs", split):
            try:
                rows += [r | {"split": r.get("split") or split} for r in _table_rows(path)[0]]
            except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
                problems.append(_unreadable(path, source, exc))
    return rows, problems


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def eval_values(rows: list[dict[str, Any]], source: ReportSource, splits: tuple[str, ...]
                ) -> tuple[dict[str, dict[str, float | None]], list[ReportInputError]]:
    """Per sample id its metric values: numeric columns of an ``eval`` config when the folder has
    one, and numeric columns of the sample rows themselves that the samples schema does not know."""
    out: dict[str, dict[str, float | None]] = {}
    for row in rows:
        extra = {k: _number(v) for k, v in row.items() if k not in SAMPLE_COLUMNS and k not in _ID_COLUMNS
                 and _number(v) is not None}
        if extra:
            out[str(row["sample_id"])] = extra
    problems: list[ReportInputError] = []
    evals = read_samples(source, "eval", splits) if split_names(source, "eval") else SampleRows()
    problems += [p for p in evals.problems if "has no split" not in str(p)]
    for row in evals.rows:
        values = {k: _number(v) for k, v in row.items() if k not in SAMPLE_COLUMNS and k not in _ID_COLUMNS
                  and (isinstance(v, (int, float)) and not isinstance(v, bool) or v is None)}
        out.setdefault(str(row["sample_id"]), {}).update(values)
    return out, problems


def iter_videos(path: Path, batch_rows: int = VIDEO_BATCH_ROWS) -> Iterator[tuple[str, bytes | None]]:
    """(sample id, mp4 bytes or None) of every row of one parquet file, a few rows in memory at once."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as handle:
        for batch in handle.iter_batches(batch_size=batch_rows, columns=["sample_id", "video"]):
            ids = batch.column("sample_id").to_pylist()
            videos = batch.column("video").to_pylist()
            for sid, video in zip(ids, videos, strict=True):
                data = (video or {}).get("bytes") if isinstance(video, dict) else None
                yield str(sid), (bytes(data) if data else None)
