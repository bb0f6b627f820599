"""The dataset folder: one versioned HF dataset repository on disk, in Hub layout.

Every stage (prompts, samples, pairs) adds a *config* to the same folder without disturbing the
others. The layout, drawn once::

    <root>/
    ├── README.md                              dataset card, rendered from dsr_build.json
    ├── dsr_build.json                         build record: format version, dsr version, and per
    │                                          config its command, settings, counts and columns
    ├── prompts/train-<fp>-00000-of-00001.parquet
    │                                          DATA_FILE: <config>/<split>-<fp>-NNNNN-of-MMMMM.parquet,
    │                                          <fp> a fingerprint of the split's content
    ├── prompts/test-<fp>-00000-of-00001.parquet
    ├── samples/…  tracks/…  pairs/…           later configs, same pattern (``tracks``: the samples
    │                                          without their videos)
    ├── judgments/…  pairs-vlm/…               configs of ``dsr judge`` (see :mod:`dsr.judge.outputs`)
    ├── assets/                                ASSETS_DIR: plots shown by the card
    └── .dsr/                                  WORK_DIR: caches, per-item results, shard markers;
        └── staging/                           STAGING_DIR: one locked folder per running write,
                                               never uploaded

A split is cut into files of at most ``SHARD_BYTES`` (and, if given, a number of rows); file ``k``
of ``n`` holds rows ``k, k + n, k + 2n, …`` of the split's order, so every file mixes all DSR types
and prompts (a contiguous cut of rows sorted by prompt id would give one type per file).

Everything is written atomically (temporary name, then rename), so a killed run leaves either the
previous state or the new one, plus staging folders and temporary files that the next write of the
folder removes (:mod:`dsr.staging`). The content fingerprint in the data file names (and so in the
card's ``configs`` patterns) matters for local folders: ``datasets`` derives the cache of a local
folder from its name and its ``configs`` block, not from the files, so a rebuilt folder with the
same patterns would load stale rows from the cache.

The path constants (``DATA_FILE``, ``WORK_DIR``, ...) and the atomic writes are defined in
:mod:`dsr.layout`, below the cards and the Hub push that need them too, and re-exported here.
"""  # noqa: E501

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dsr.errors import DataError
from dsr.layout import (
    ASSETS_DIR,
    BUILD_RECORD,
    CARD,
    DATA_FILE,
    DATA_GLOB,
    FORMAT_VERSION,
    SHARD_BYTES,
    STAGING_DIR,
    UPLOAD_IGNORE,
    WORK_DIR,
    atomic_write_bytes,
    atomic_write_text,
    data_glob,
)
from dsr.staging import remove_stale_staging, remove_stale_temp_files, staging_dir

if TYPE_CHECKING:
    import datasets

__all__ = [
    "ASSETS_DIR",
    "BUILD_RECORD",
    "CARD",
    "DATA_FILE",
    "DATA_GLOB",
    "FORMAT_VERSION",
    "SHARD_BYTES",
    "STAGING_DIR",
    "UPLOAD_IGNORE",
    "WORK_DIR",
    "ConfigRecord",
    "DatasetFolder",
    "SplitSource",
    "atomic_write_bytes",
    "atomic_write_text",
    "data_glob",
    "dataset_info",
    "shard_count",
    "stored_features",
]


class SplitSource(Protocol):
    """One split as :meth:`DatasetFolder.write_config` reads it: its features as the card declares
    them, its size, and any shard of its rows (rows ``index, index + count, …``) as an in-memory
    ``datasets.Dataset`` with the :func:`stored_features`. A source that reads its rows from files
    never holds nor stages more than one shard (the merge's videos, see
    :mod:`dsr.builders.consolidate`)."""

    @property
    def features(self) -> datasets.Features: ...

    @property
    def num_rows(self) -> int: ...

    @property
    def num_bytes(self) -> int: ...

    def shard(self, index: int, count: int) -> datasets.Dataset: ...


class _InMemorySplit:
    """A ``datasets.Dataset`` as a :class:`SplitSource`."""

    def __init__(self, ds: datasets.Dataset) -> None:
        self.ds = ds

    @property
    def features(self) -> datasets.Features:
        return self.ds.features

    @property
    def num_rows(self) -> int:
        return len(self.ds)

    @property
    def num_bytes(self) -> int:
        return int(self.ds.data.nbytes)

    def shard(self, index: int, count: int) -> datasets.Dataset:
        return self.ds.shard(num_shards=count, index=index, contiguous=False)


def _source(split: datasets.Dataset | SplitSource) -> SplitSource:
    from datasets import Dataset

    return _InMemorySplit(split) if isinstance(split, Dataset) else split


def stored_features(features: datasets.Features) -> datasets.Features:
    """``features`` as the parquet files store them: an ``Array2D((None, n))`` column (per-frame
    boxes, declared so in the card, so that ``load_dataset`` gives a ``(frames, n)`` array even for
    0 frames) is written as its plain Arrow type, a list of fixed-size lists of ``n`` values, which
    polars reads as ``list[array[f64, n]]`` and ``datasets`` casts to the declared ``Array2D``."""
    from datasets import Array2D, Features, List, Value

    return Features(
        {
            name: List(List(Value(f.dtype), length=f.shape[1])) if isinstance(f, Array2D) else f
            for name, f in features.items()
        }
    )


def shard_count(split: SplitSource, max_rows: int | None, max_bytes: int) -> int:
    """Files for one split: enough that none exceeds ``max_bytes`` (Arrow size, which for the
    already compressed mp4 bytes is close to the parquet size) nor ``max_rows`` rows."""
    rows = split.num_rows
    by_rows = -(-rows // max_rows) if max_rows else 1
    by_bytes = -(-split.num_bytes // max_bytes)
    return max(1, by_rows, min(by_bytes, rows))


def dataset_info(
    config: str, splits: Mapping[str, datasets.Dataset | SplitSource]
) -> dict[str, Any]:
    """The card's ``dataset_info`` entry of one config: its features and split sizes, as
    ``datasets`` writes it when it pushes a dataset itself."""
    from datasets import SplitDict, SplitInfo
    from datasets.info import DatasetInfo, DatasetInfosDict
    from huggingface_hub import DatasetCardData

    if not splits:
        return {}
    sources = {name: _source(split) for name, split in splits.items()}
    sizes = SplitDict()
    for name, src in sources.items():
        sizes.add(SplitInfo(name, num_bytes=src.num_bytes, num_examples=src.num_rows))
    info = DatasetInfo(
        features=next(iter(sources.values())).features, splits=sizes, config_name=config
    )
    card = DatasetCardData()
    DatasetInfosDict({config: info}).to_dataset_card_data(card)
    return dict(card.to_dict()["dataset_info"])


@dataclass
class ConfigRecord:
    """What the card and the build record say about one config."""

    description: str
    columns: dict[str, str]
    splits: dict[str, int] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)
    command: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    card_markdown: str = ""
    data_fingerprints: dict[str, str] = field(default_factory=dict)
    #: format of the config's data files, set by ``write_config`` (a record without one is format 1)
    format_version: int = 1
    #: the card's ``dataset_info`` entry (features and split sizes), set by ``write_config``
    dataset_info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class DatasetFolder:
    """A dataset repository folder; see the module docstring for its layout."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -- paths -----------------------------------------------------------------------------
    def work_dir(self, *parts: str) -> Path:
        """A folder inside the never-uploaded work area, created on demand."""
        path = self.root.joinpath(WORK_DIR, *parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def staging(self, prefix: str) -> contextlib.AbstractContextManager[Path]:
        """A locked staging folder in the work area, deleted after the block
        (see :mod:`dsr.staging`)."""
        return staging_dir(self.root / WORK_DIR / STAGING_DIR, prefix)

    def remove_leftovers(self) -> list[Path]:
        """Delete what killed runs left: staging folders and temporary files of dead processes."""
        removed = remove_stale_staging(self.root / WORK_DIR / STAGING_DIR)
        folders = [self.root, self.root / ASSETS_DIR, *(self.root / c for c in self.config_names())]
        for folder in folders:
            removed += remove_stale_temp_files(folder)
        return removed

    def asset_path(self, name: str) -> Path:
        return self.root / ASSETS_DIR / name

    def data_files(self, config: str, split: str) -> list[Path]:
        """The parquet files of one split, as the card names them."""
        record = self.config_record(config) or {}
        fingerprint = record.get("data_fingerprints", {}).get(split)
        return sorted(self.root.glob(data_glob(config, split, fingerprint)))

    # -- build record ----------------------------------------------------------------------
    def read_record(self) -> dict[str, Any]:
        path = self.root / BUILD_RECORD
        if not path.exists():
            return {"format_version": FORMAT_VERSION, "configs": {}}
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(
                f"{path} is damaged ({type(exc).__name__}: {exc}): restore it from the Hub or a "
                "backup, or build this folder again in a new --out"
            ) from None
        if not isinstance(record, dict):
            raise DataError(
                f"{path} is damaged (not a JSON object): restore it, or build again in a new --out"
            )
        if record.get("format_version", 0) > FORMAT_VERSION:
            raise DataError(
                f"{path} has format version {record['format_version']}, newer than this dsr "
                f"({FORMAT_VERSION}): upgrade dsr"
            )
        return record

    def config_names(self) -> list[str]:
        return list(self.read_record().get("configs", {}))

    def config_record(self, config: str) -> dict[str, Any] | None:
        return self.read_record().get("configs", {}).get(config)

    # -- writing ---------------------------------------------------------------------------
    def write_config(
        self,
        config: str,
        splits: Mapping[str, datasets.Dataset | SplitSource],
        record: ConfigRecord,
        *,
        max_rows_per_shard: int | None = None,
        max_shard_bytes: int = SHARD_BYTES,
    ) -> None:
        """Replace the data files of ``config`` with ``splits`` and update record and card.

        Each split is cut into files of at most ``max_shard_bytes`` and ``max_rows_per_shard`` rows
        (see the module docstring), written one at a time from the split's source. The new files
        are written to the work area first and moved in only once all are complete.
        """
        sources = {split: _source(ds) for split, ds in splits.items()}
        with self.staging(config) as staging:
            fingerprints: dict[str, str] = {}
            moved: list[str] = []
            for split, src in sources.items():
                count = shard_count(src, max_rows_per_shard, max_shard_bytes)
                fingerprints[split], files = self._write_split(config, split, src, staging, count)
                moved += files
            for rel in moved:  # new files first: the current card keeps pointing at the old ones
                target = self.root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / rel, target)
        record.splits = {name: src.num_rows for name, src in sources.items()}
        record.data_fingerprints = fingerprints
        record.format_version = FORMAT_VERSION
        record.dataset_info = dataset_info(config, sources)
        self.update_record(config, record)
        for old in self.root.glob(f"{config}/*.parquet"):  # then the files no card names any more
            if old.relative_to(self.root).as_posix() not in moved:
                old.unlink()

    def _write_split(
        self, config: str, split: str, src: SplitSource, staging: Path, count: int
    ) -> tuple[str, list[str]]:
        """Write the ``count`` files of one split (file ``k`` holds rows ``k, k + count, …``);
        returns the content fingerprint and the relative paths."""
        parts = []
        digest = hashlib.sha256()
        for index in range(count):
            part = staging / f".{split}-{index:05d}.parquet"
            src.shard(index, count).to_parquet(str(part))
            digest.update(part.read_bytes())
            parts.append(part)
        fingerprint = digest.hexdigest()[:10]
        written = []
        for index, part in enumerate(parts):
            rel = DATA_FILE.format(
                config=config, split=split, fingerprint=fingerprint, index=index, count=count
            )
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, staging / rel)
            written.append(rel)
        return fingerprint, written

    def update_record(self, config: str, record: ConfigRecord) -> None:
        """Store the record of ``config`` and re-render the card from all records."""
        from dsr import __version__
        from dsr.cards import render_dataset_card

        full = self.read_record()
        full["format_version"] = FORMAT_VERSION
        full["dsr_version"] = __version__
        full.setdefault("configs", {})[config] = record.to_dict()
        full = self.publishable(full)
        text = json.dumps(full, indent=2, sort_keys=True) + "\n"
        atomic_write_text(self.root / BUILD_RECORD, text)
        atomic_write_text(self.root / CARD, render_dataset_card(full))

    def publishable(self, record: dict[str, Any]) -> dict[str, Any]:
        """``record`` as a published file may hold it, whatever a caller put in its settings or
        command: secrets masked, absolute paths relative to the folder (or cut to their name).
        The values are masked, never a rendered card (its ``</details>`` is no path)."""
        from dsr.cards import publishable_values

        return dict(publishable_values(record, self.root))
