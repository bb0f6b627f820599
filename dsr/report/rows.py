"""Reading what a report shows: samples (without their video bytes), pairs, per-sample eval
values and the embedded mp4 bytes, one batch at a time.

The per-frame columns of a current (format 2) file are cut out of the Arrow columns as numpy
arrays, without a Python object per value; any other layout (a format-1 folder: null boxes where
absent, no presence flags) goes through :func:`dsr.builders.samples.current_row` row by row. A
file that cannot be read is a :class:`~dsr.errors.ReportInputError`, collected, and the other files
are still read.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dsr.builders.samples import SAMPLE_COLUMNS, current_row
from dsr.errors import ReportInputError
from dsr.report.data import CLASS_CODES, FrameData, Sample
from dsr.report.source import ReportSource, data_files, split_names

__all__ = ["SampleRows", "eval_values", "iter_videos", "read_pairs", "read_samples"]

#: Columns that identify a row; everything else of an ``eval`` config that is a number is a metric.
_ID_COLUMNS = ("sample_id", "prompt_id", "split", "seed")
#: Rows of video bytes held in memory at once.
VIDEO_BATCH_ROWS = 16
#: The per-frame columns, read into :class:`FrameData`.
FRAME_COLUMNS = (
    "animal_boxes",
    "object_boxes",
    "animal_present",
    "object_present",
    "frame_classes",
    "ssr_initial",
    "ssr_final",
    "detections",
)


@dataclass
class SampleRows:
    """The samples of the chosen config, the files they came from, and the problems met."""

    samples: list[Sample] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    has_video_column: bool = False
    problems: list[ReportInputError] = field(default_factory=list)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [s.row for s in self.samples]


def _unreadable(path: Path, source: ReportSource, exc: Exception) -> ReportInputError:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    rel = path.relative_to(source.root).as_posix()
    return ReportInputError(
        f"{source.label}: {rel} is not a readable parquet file ({first}): its rows are "
        "left out of the report; rebuild the config (dsr build-videos --merge-only) or "
        "download it again"
    )


def _read_table(path: Path, skip: tuple[str, ...] = ("video",)) -> tuple[Any, bool]:
    """The Arrow table of one parquet file without the ``skip`` columns, and
    whether it had a video."""
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    return pq.read_table(path, columns=[c for c in names if c not in skip]), "video" in names


def _flat_list(column: Any) -> tuple[np.ndarray, Any] | None:
    """Row offsets and flattened values of a list column (chunked or not), or None if
    it has null rows."""
    array = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    if array.null_count:
        return None
    offsets = array.offsets.to_numpy()
    return offsets - offsets[0], array.flatten()


def _fixed4(values: Any) -> np.ndarray | None:
    """(n, 4) floats of a fixed-size-list<double, 4> array (None for another type or nulls)."""
    import pyarrow as pa

    if (
        not pa.types.is_fixed_size_list(values.type)
        or values.type.list_size != 4
        or values.null_count
    ):
        return None
    return np.asarray(values.flatten().to_numpy(zero_copy_only=False), dtype=float).reshape(-1, 4)


def _flat_columns(table: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """The per-frame columns flattened, and the row offsets of each (None: another layout)."""
    if any(c not in table.column_names for c in FRAME_COLUMNS):
        return None
    values, offsets = {}, {}
    for name in FRAME_COLUMNS:
        flat = _flat_list(table.column(name))
        if flat is None:
            return None
        offsets[name], values[name] = flat
    return values, offsets


def _class_letters(values: Any) -> np.ndarray:
    """One letter per frame class (``?`` for an unknown or null class)."""
    encoded = values.dictionary_encode()
    names = encoded.dictionary.to_pylist()
    letters = np.array([CLASS_CODES.get(str(c), "?") for c in names] + ["?"])
    return letters[
        np.asarray(encoded.indices.fill_null(len(names)).to_numpy(zero_copy_only=False), dtype=int)
    ]


def _columnar_frames(table: Any) -> list[FrameData] | None:
    """The FrameData of every row of a current-format table, or None for any other layout."""
    flat = _flat_columns(table)
    if flat is None:
        return None
    values, off = flat
    animal, obj = _fixed4(values["animal_boxes"]), _fixed4(values["object_boxes"])
    dets = _detections(values["detections"])
    if animal is None or obj is None or dets is None:
        return None

    def floats(name: str) -> list[np.ndarray]:
        return _split(
            np.asarray(values[name].to_numpy(zero_copy_only=False), dtype=float), off[name]
        )

    def flags(name: str) -> list[np.ndarray]:
        return _split(
            np.asarray(values[name].fill_null(False).to_numpy(zero_copy_only=False), dtype=bool),
            off[name],
        )

    classes = [
        "".join(c) for c in _split(_class_letters(values["frame_classes"]), off["frame_classes"])
    ]
    det_rows = [
        dets.row(a, b) for a, b in zip(off["detections"][:-1], off["detections"][1:], strict=True)
    ]
    columns = zip(
        _split(animal, off["animal_boxes"]),
        _split(obj, off["object_boxes"]),
        flags("animal_present"),
        flags("object_present"),
        classes,
        floats("ssr_initial"),
        floats("ssr_final"),
        det_rows,
        strict=True,
    )
    return [FrameData(a, o, ap, op, c, si, sf, *d) for a, o, ap, op, c, si, sf, d in columns]


def _split(values: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    """``values`` cut at ``offsets`` (n + 1 of them): one view per row."""
    return np.split(values, offsets[1:-1]) if len(offsets) > 1 else []


@dataclass(frozen=True)
class _Detections:
    """Every detection of a file: per frame its offset, and the labels, scores and boxes."""

    frame_offsets: np.ndarray
    labels: list[str]
    scores: np.ndarray
    boxes: np.ndarray

    def row(
        self, first_frame: int, end_frame: int
    ) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
        offsets = self.frame_offsets[first_frame : end_frame + 1]
        a, b = int(offsets[0]), int(offsets[-1])
        return offsets - a, self.labels[a:b], self.scores[a:b], self.boxes[a:b]


def _detections(frames: Any) -> _Detections | None:
    """The detections of every frame of a file (a list<struct<label, box, score>> per frame)."""
    inner = _flat_list(frames)
    if inner is None or frames.type.value_type.num_fields != 3:
        return None
    offsets, structs = inner
    boxes = _fixed4(structs.field("box"))
    if boxes is None:
        return None
    scores = np.asarray(structs.field("score").to_numpy(zero_copy_only=False), dtype=float)
    return _Detections(offsets, [str(x) for x in structs.field("label").to_pylist()], scores, boxes)


def _scalar_rows(table: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.drop_columns(
        [c for c in FRAME_COLUMNS if c in table.column_names]
    ).to_pylist()
    return rows


def _samples(table: Any, split: str) -> list[Sample]:
    """The samples of one table: columnar when it has the current layout, else row by row."""
    frames = _columnar_frames(table)
    if frames is not None:
        rows = _scalar_rows(table)
    else:
        rows = [
            current_row(r) | {k: v for k, v in r.items() if k not in SAMPLE_COLUMNS}
            for r in table.to_pylist()
        ]
        frames = [FrameData.from_row(r) for r in rows]
        rows = [{k: v for k, v in r.items() if k not in FRAME_COLUMNS} for r in rows]
    for row in rows:
        row["split"] = row.get("split") or split
    return [Sample(row, f) for row, f in zip(rows, frames, strict=True)]


def read_samples(source: ReportSource, config: str, splits: tuple[str, ...] = ()) -> SampleRows:
    """The samples of ``config`` (every split, or ``splits``) in report order (:func:`_order`);
    a config that is missing or has no ``sample_id`` is a problem."""
    out = SampleRows()
    available = split_names(source, config)
    if not available:
        out.problems.append(
            ReportInputError(
                f"{source.label} has no {config} config: the report shows no samples; build one "
                "with `dsr build-videos` or `dsr score-videos` into this folder, or choose "
                "another --config"
            )
        )
        return out
    for split in splits or tuple(available):
        if split not in available:
            out.problems.append(
                ReportInputError(
                    f"{source.label}: the {config} config has no split {split!r} (it has "
                    f"{', '.join(available)}): choose one of those with --split"
                )
            )
            continue
        _read_split(source, config, split, out)
    out.samples.sort(key=_order)
    return out


def _order(sample: Sample) -> tuple[int, str, str, int]:
    """Report order: train, test, other splits by name; then prompt id and seed."""
    split = str(sample.row.get("split") or "")
    return (
        {"train": 0, "test": 1}.get(split, 2),
        split,
        str(sample.row.get("prompt_id") or ""),
        int(sample.row.get("seed") or 0),
    )


def _read_split(source: ReportSource, config: str, split: str, out: SampleRows) -> None:
    for path in data_files(source, config, split):
        try:
            table, has_video = _read_table(path)
        except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
            out.problems.append(_unreadable(path, source, exc))
            continue
        if "sample_id" not in table.column_names:
            out.problems.append(
                ReportInputError(
                    f"{source.label}: {path.relative_to(source.root).as_posix()} has no sample_id "
                    "column, so it is not a samples config: give --config samples (or tracks)"
                )
            )
            continue
        out.files.append(path)
        out.has_video_column |= has_video
        out.samples += _samples(table, split)


def read_pairs(
    source: ReportSource, splits: tuple[str, ...]
) -> tuple[list[dict[str, Any]], list[ReportInputError]]:
    """The rows of the ``pairs`` config of ``splits`` ([] when the folder has none)."""
    rows: list[dict[str, Any]] = []
    problems: list[ReportInputError] = []
    for split in split_names(source, "pairs"):
        if splits and split not in splits:
            continue
        for path in data_files(source, "pairs", split):
            try:
                rows += [
                    r | {"split": r.get("split") or split} for r in _read_table(path)[0].to_pylist()
                ]
            except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
                problems.append(_unreadable(path, source, exc))
    return rows, problems


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def eval_values(
    rows: list[dict[str, Any]], source: ReportSource, splits: tuple[str, ...]
) -> tuple[dict[str, dict[str, float | None]], list[ReportInputError]]:
    """Per sample id its metric values: numeric columns of an ``eval`` config when the folder has
    one, and numeric columns of the sample rows themselves that the samples schema does not know."""
    out: dict[str, dict[str, float | None]] = {}
    for row in rows:
        extra = {
            k: _number(v)
            for k, v in row.items()
            if k not in SAMPLE_COLUMNS and k not in _ID_COLUMNS and _number(v) is not None
        }
        if extra:
            out[str(row["sample_id"])] = extra
    shared = tuple(s for s in split_names(source, "eval") if not splits or s in splits)
    evals = read_samples(source, "eval", shared) if shared else SampleRows()
    for row in evals.rows:
        values = {
            k: _number(v)
            for k, v in row.items()
            if k not in SAMPLE_COLUMNS
            and k not in _ID_COLUMNS
            and (isinstance(v, (int, float)) and not isinstance(v, bool) or v is None)
        }
        out.setdefault(str(row["sample_id"]), {}).update(values)
    return out, evals.problems


def iter_videos(
    path: Path, batch_rows: int = VIDEO_BATCH_ROWS
) -> Iterator[tuple[str, bytes | None]]:
    """(sample id, mp4 bytes or None) of every row of one parquet file, a few rows
    in memory at once."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as handle:
        for batch in handle.iter_batches(batch_size=batch_rows, columns=["sample_id", "video"]):
            ids = batch.column("sample_id").to_pylist()
            videos = batch.column("video").to_pylist()
            for sid, video in zip(ids, videos, strict=True):
                data = (video or {}).get("bytes") if isinstance(video, dict) else None
                yield str(sid), (bytes(data) if data else None)
