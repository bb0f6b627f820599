"""Checks at the file edges of every command: input files that are not the text they should be, and
outputs that cannot be written.

Each check raises a :class:`~dsr.errors.DsrError` subclass whose one-line message names the file,
the problem and the fix, *before* any work is done, so that nothing is left half written.
"""

from __future__ import annotations

import codecs
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from dsr.errors import ConfigError, DataError

__all__ = [
    "DATASET_PARQUET_FIX",
    "check_output_dir",
    "check_output_file",
    "check_text_head",
    "parquet_errors",
    "read_text_file",
]

#: Bytes looked at to tell a text file from a binary one.
SNIFF_BYTES = 64 * 1024
#: First bytes of a parquet file.
PARQUET_MAGIC = b"PAR1"
#: The fix named for a damaged parquet file of a dataset folder's config.
DATASET_PARQUET_FIX = (
    "download the dataset again, or merge it again with `dsr build-videos --merge-only --out "
    "FOLDER` where it was built"
)


def _existing_ancestor(path: Path) -> Path:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _check_writable(target: Path, folder: Path, option: str) -> None:
    """``folder`` (to be created if missing) must be one we can create and write in."""
    probe = _existing_ancestor(folder)
    if not probe.is_dir():
        raise ConfigError(
            f"{option} {target}: {probe} is a file, so nothing can be created under it: "
            "choose another path"
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{option} {target}: no write permission in {probe}: choose a folder you can "
            "write to, or fix its permissions"
        )


def check_output_dir(path: str | Path, option: str = "--out") -> Path:
    """Refuse an output folder that is a file, lies under a file, or cannot be written."""
    target = Path(path).expanduser()
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{option} {target} is a file, not a folder: choose a folder path")
    _check_writable(target, target, option)
    return target


def check_output_file(path: str | Path, option: str = "--out") -> Path:
    """Refuse an output file that is a folder, lies under a file, or cannot be written."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise ConfigError(f"{option} {target} is a folder: give a file name")
    if target.exists() and not os.access(target, os.W_OK):
        raise ConfigError(f"{option} {target}: no write permission: choose another file")
    _check_writable(target, target.parent, option)
    return target


def _not_utf8(path: Path, data: bytes, exc: UnicodeDecodeError, fix: str) -> DataError:
    line = data[: exc.start].count(b"\n") + 1
    return DataError(
        f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}): "
        f"save it as UTF-8 ({fix})"
    )


def check_text_head(path: str | Path, what: str, fix: str) -> None:
    """Refuse a file whose first bytes are binary (NUL bytes, parquet) or not UTF-8 text."""
    src = Path(path)
    with src.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith(PARQUET_MAGIC):
        raise DataError(f"{src} is a parquet file, not {what}: name it *.parquet")
    if b"\x00" in head:
        raise DataError(f"{src} is a binary file, not {what}: {fix}")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise _not_utf8(src, head, exc, fix) from None


def read_text_file(path: str | Path, what: str, fix: str) -> str:
    """The whole file as text (UTF-8, a BOM allowed); a binary or non-UTF-8 file is a DataError
    naming the file, the first bad byte and its line."""
    src = Path(path)
    data = src.read_bytes()
    if data.startswith(PARQUET_MAGIC) or b"\x00" in data:
        raise DataError(f"{src} is a binary file, not {what}: {fix}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(src, data, exc, fix) from None


@contextlib.contextmanager
def parquet_errors(path: str | Path, fix: str) -> Iterator[None]:
    """Turn polars' and pyarrow's errors while reading the parquet file ``path`` (truncated,
    corrupt, not parquet at all) into one :class:`DataError` naming the file and ``fix``."""
    import polars as pl
    import pyarrow as pa

    try:
        yield
    except (pl.exceptions.PolarsError, pa.ArrowException, OSError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise DataError(f"{path} is not a readable parquet file ({first}): {fix}") from None
