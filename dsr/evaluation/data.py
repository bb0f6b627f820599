"""The samples an evaluation reads: a dataset folder or a Hub dataset ``repo[@revision]``, one
config and split, as light rows (no video bytes) plus a stream of decoded videos."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dsr.builders.folder import DatasetFolder
from dsr.errors import DataError
from dsr.fileio import DATASET_PARQUET_FIX, parquet_errors

__all__ = ["LIGHT_COLUMNS", "EvalSource", "load_rows", "open_source", "stream_videos"]

#: Columns read for every metric (everything but the video).
LIGHT_COLUMNS = (
    "sample_id",
    "prompt_id",
    "seed",
    "dsr_type",
    "valid",
    "reason",
    "dsr_score",
    "animal_boxes",
    "object_boxes",
    "key_frame",
    "generator",
    "generator_settings",
)
_REQUIRED = ("sample_id", "prompt_id", "seed", "valid", "dsr_score")


@dataclass(frozen=True)
class EvalSource:
    """Where the evaluated samples are: the local folder and what it came from."""

    folder: DatasetFolder
    config: str
    split: str
    described: dict[str, Any]
    fingerprint: str

    def describe(self) -> dict[str, Any]:
        return {
            **self.described,
            "config": self.config,
            "split": self.split,
            "data_fingerprint": self.fingerprint,
        }


def open_source(dataset: str, config: str, split: str) -> EvalSource:
    """The folder of ``dataset`` (``repo[@revision]`` downloads only the build record and this
    config's files of ``split``); a missing config or split is a DataError naming what exists."""
    from dsr.builders.dataset_source import resolve_dataset

    name, at, revision = dataset.partition("@")
    source = resolve_dataset(
        name if at else dataset, revision or None, configs=(config,), split=split
    )
    folder = DatasetFolder(source.root)
    record = folder.config_record(config)
    if record is None:
        raise DataError(
            f"{dataset} has no `{config}` config (built: "
            f"{', '.join(folder.config_names()) or 'none'}): evaluate a folder built by `dsr "
            "build-videos` or `dsr score-videos`, or choose --config"
        )
    if not folder.data_files(config, split):
        raise DataError(
            f"{dataset}: config `{config}` has no {split} split (it has "
            f"{', '.join(record.get('splits', {}))}): choose --split"
        )
    fingerprint = (record.get("data_fingerprints") or {}).get(split) or ""
    return EvalSource(folder, config, split, source.describe(), fingerprint)


def load_rows(source: EvalSource) -> list[dict[str, Any]]:
    """Every row of the split without its video, sorted by sample id."""
    import polars as pl

    frames = []
    for path in source.folder.data_files(source.config, source.split):
        with parquet_errors(path, DATASET_PARQUET_FIX):
            names = pl.read_parquet_schema(path)
        missing = [c for c in _REQUIRED if c not in names]
        if missing:
            raise DataError(
                f"{path.name} of `{source.config}` lacks the columns {', '.join(missing)}: "
                "evaluate a samples (or tracks) config built by dsr"
            )
        with parquet_errors(path, DATASET_PARQUET_FIX):
            frames.append(pl.read_parquet(path, columns=[c for c in LIGHT_COLUMNS if c in names]))
    rows = pl.concat(frames, how="diagonal_relaxed").to_dicts() if frames else []
    if not rows:
        raise DataError(f"`{source.config}` ({source.split}) holds no samples: nothing to evaluate")
    return sorted(rows, key=lambda r: str(r["sample_id"]))


def _decode(item: tuple[str, bytes | None]) -> tuple[str, np.ndarray | None, str | None]:
    from dsr.media import decode_video

    sid, data = item
    if not data:
        return sid, None, "no video"
    try:
        return sid, decode_video(data)[0], None
    except DataError as exc:
        return sid, None, str(exc)


def stream_videos(
    source: EvalSource, wanted: Sequence[str], group: int
) -> Iterator[list[tuple[str, np.ndarray | None, str | None]]]:
    """Groups of ``group`` decoded videos ``(sample_id, frames or None, error)`` of the wanted
    samples; the next group is decoded in a background thread while the current one is used."""
    from dsr.builders.dataset_source import DatasetSource, iter_video_bytes

    if "video" not in _columns(source):
        raise DataError(
            f"`{source.config}` holds no videos (a tracks config?): the model metrics need the "
            "samples config (--config samples)"
        )
    stream = iter_video_bytes(
        DatasetSource(source.folder.root),
        set(wanted),
        samples_config=source.config,
        split=source.split,
    )
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        while True:
            chunk = [item for _, item in zip(range(group), stream, strict=False)]
            future = pool.submit(lambda c: [_decode(i) for i in c], chunk) if chunk else None
            if pending is not None:
                yield pending.result()
            if future is None:
                return
            pending = future


def _columns(source: EvalSource) -> set[str]:
    import polars as pl

    files = source.folder.data_files(source.config, source.split)
    if not files:
        return set()
    with parquet_errors(files[0], DATASET_PARQUET_FIX):
        return set(pl.read_parquet_schema(files[0]))
