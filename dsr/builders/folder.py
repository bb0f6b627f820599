"""The dataset folder: one versioned HF dataset repository on disk, in Hub layout.

Every stage (prompts, samples, pairs) adds a *config* to the same folder without disturbing the
others. The layout, drawn once::

    <root>/
    ├── README.md                              dataset card, rendered from dsr_build.json
    ├── dsr_build.json                         build record: format version, dsr version, and per
    │                                          config its command, settings, counts and columns
    ├── prompts/train-00000-of-00001.parquet   DATA_FILE: <config>/<split>-NNNNN-of-MMMMM.parquet
    ├── prompts/test-00000-of-00001.parquet
    ├── samples/…  pairs/…                     later configs, same pattern
    ├── assets/                                ASSETS_DIR: plots shown by the card
    └── .dsr/                                  WORK_DIR: caches, per-item results, shard markers;
                                               never uploaded

Everything is written atomically (temporary name, then rename), so a killed run leaves either the
previous state or the new one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsr.errors import DataError

if TYPE_CHECKING:
    import datasets

__all__ = [
    "ASSETS_DIR",
    "BUILD_RECORD",
    "CARD",
    "DATA_FILE",
    "FORMAT_VERSION",
    "WORK_DIR",
    "ConfigRecord",
    "DatasetFolder",
    "atomic_write_bytes",
    "atomic_write_text",
]

FORMAT_VERSION = 1
CARD = "README.md"
BUILD_RECORD = "dsr_build.json"
WORK_DIR = ".dsr"
ASSETS_DIR = "assets"
DATA_FILE = "{config}/{split}-{index:05d}-of-{count:05d}.parquet"
DATA_GLOB = "{config}/{split}-*.parquet"
#: Paths never pushed to the Hub.
UPLOAD_IGNORE = [f"{WORK_DIR}/**", "**/.*.tmp"]


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; published files are world-readable
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


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

    def asset_path(self, name: str) -> Path:
        return self.root / ASSETS_DIR / name

    def data_files(self, config: str, split: str) -> list[Path]:
        return sorted(self.root.glob(DATA_GLOB.format(config=config, split=split)))

    # -- build record ----------------------------------------------------------------------
    def read_record(self) -> dict[str, Any]:
        path = self.root / BUILD_RECORD
        if not path.exists():
            return {"format_version": FORMAT_VERSION, "configs": {}}
        record = json.loads(path.read_text(encoding="utf-8"))
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
        splits: Mapping[str, datasets.Dataset],
        record: ConfigRecord,
        *,
        max_rows_per_shard: int = 5000,
    ) -> None:
        """Replace the data files of ``config`` with ``splits`` and update record and card.

        The new files are written to the work area first and moved in only once all are complete.
        """
        staging = Path(tempfile.mkdtemp(dir=self.work_dir("staging"), prefix=f"{config}-"))
        try:
            moved = self._write_shards(config, splits, staging, max_rows_per_shard)
            for old in self.root.glob(f"{config}/*.parquet"):
                if old.relative_to(self.root).as_posix() not in moved:
                    old.unlink()
            for rel in moved:
                target = self.root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / rel, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        record.splits = {name: len(ds) for name, ds in splits.items()}
        self.update_record(config, record)

    def _write_shards(
        self, config: str, splits: Mapping[str, datasets.Dataset], staging: Path, max_rows: int
    ) -> list[str]:
        written = []
        for split, ds in splits.items():
            count = max(1, -(-len(ds) // max_rows))
            for index in range(count):
                rel = DATA_FILE.format(config=config, split=split, index=index, count=count)
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                ds.shard(num_shards=count, index=index, contiguous=True).to_parquet(str(staging / rel))
                written.append(rel)
        return written

    def update_record(self, config: str, record: ConfigRecord) -> None:
        """Store the record of ``config`` and re-render the card from all records."""
        from dsr import __version__
        from dsr.cards import mask_secrets, render_dataset_card

        full = self.read_record()
        full["format_version"] = FORMAT_VERSION
        full["dsr_version"] = __version__
        full.setdefault("configs", {})[config] = record.to_dict()
        # Secrets never reach a published file, whatever a caller put in its settings.
        text = mask_secrets(json.dumps(full, indent=2, sort_keys=True) + "\n")
        atomic_write_text(self.root / BUILD_RECORD, text)
        atomic_write_text(self.root / CARD, mask_secrets(render_dataset_card(full, self._split_names(full))))

    def _split_names(self, full: dict[str, Any]) -> dict[str, list[str]]:
        return {name: list(rec.get("splits", {})) for name, rec in full.get("configs", {}).items()}
