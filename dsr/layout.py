"""The dataset folder's path constants and the atomic writes every stage uses.

This module sits below everything that reads or writes a dataset folder (the builders, the
cards, the Hub push, training), so that each names a path the same way without importing the
others. The layout itself is drawn once, as a tree, in the docstring of the class that owns it:
:class:`dsr.builders.folder.DatasetFolder`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dsr.staging import temp_prefix

__all__ = [
    "ASSETS_DIR",
    "BUILD_RECORD",
    "CARD",
    "DATA_FILE",
    "DATA_GLOB",
    "FORMAT_VERSION",
    "LEGACY_DATA_GLOB",
    "SHARD_BYTES",
    "STAGING_DIR",
    "UPLOAD_IGNORE",
    "WORK_DIR",
    "atomic_write_bytes",
    "atomic_write_text",
    "data_glob",
]

#: Format of the folder, in ``dsr_build.json`` and in each config's record. 1: first release.
#: 2: ``pairs`` name their id lists ``chosen_ids``/``rejected_ids``; an absent box is four NaN with
#: per-frame presence flags; ``score_settings``/``encode_settings`` are structs; the video-free
#: ``tracks`` config; the card names a default config and the features (``dataset_info``).
#: 3: the card declares the per-frame boxes as ``Array2D((None, 4))``, so that ``datasets`` gives a
#: (frames, 4) array, (0, 4) for 0 frames; the parquet files store them as before (format 2 files
#: read the same).
FORMAT_VERSION = 3
#: Largest parquet file written (about 100–200 MB per file once a split needs more than one).
SHARD_BYTES = 200_000_000
CARD = "README.md"
BUILD_RECORD = "dsr_build.json"
WORK_DIR = ".dsr"
STAGING_DIR = "staging"
ASSETS_DIR = "assets"
DATA_FILE = "{config}/{split}-{fingerprint}-{index:05d}-of-{count:05d}.parquet"
DATA_GLOB = "{config}/{split}-{fingerprint}-*.parquet"
#: Pattern of a split written without a fingerprint (records from before fingerprints existed).
LEGACY_DATA_GLOB = "{config}/{split}-*.parquet"
#: Paths never pushed to the Hub.
UPLOAD_IGNORE = [f"{WORK_DIR}/**", "**/.*.tmp"]


def data_glob(config: str, split: str, fingerprint: str | None) -> str:
    """The data-files pattern of one split of one config, as the card's
    ``configs`` block names it."""
    if not fingerprint:
        return LEGACY_DATA_GLOB.format(config=config, split=split)
    return DATA_GLOB.format(config=config, split=split, fingerprint=fingerprint)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename. A failed
    write (a full disk) leaves no temporary file and raises an OSError naming ``path``."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=temp_prefix(out.name), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; published files are world-readable
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.filename is not None:
            raise
        raise OSError(exc.errno, exc.strerror, str(out)) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def atomic_write_text(path: str | Path, text: str) -> Path:
    """:func:`atomic_write_bytes` of ``text`` in UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"))
