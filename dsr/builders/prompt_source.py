"""Read prompt records for ``build-videos``: from a dataset folder's ``prompts``
config or a Hub id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dsr.builders.dataset_source import check_hub_dataset, looks_local
from dsr.builders.folder import DatasetFolder
from dsr.errors import DataError

__all__ = ["load_prompt_records"]


def _read_parquet_files(files: list[Path], folder: Path) -> list[dict[str, Any]]:
    """All rows of ``files``; a file that is not readable parquet is one DataError naming it."""
    import polars as pl

    frames = []
    for file in files:
        try:
            frames.append(pl.read_parquet(file))
        except (pl.exceptions.PolarsError, OSError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise DataError(
                f"{file} is not a readable parquet file ({first}): rebuild the prompts with "
                f"`dsr build-prompts --out {folder}`"
            ) from None
    return pl.concat(frames, how="diagonal_relaxed").to_dicts()


def load_prompt_records(source: str | Path, split: str) -> list[dict[str, Any]]:
    """Prompt rows of ``split``: a local folder (parquet shards read with polars)
    or a Hub repo id."""
    path = Path(source)
    if not path.exists() and looks_local(str(source)):
        raise DataError(
            f"prompts folder {path} does not exist: give the --out folder of `dsr build-prompts`, "
            "or a Hub dataset repo id (namespace/name)"
        )
    if path.is_file():
        raise DataError(
            f"{path} is a file: give the dataset folder that holds prompts/ (the --out of `dsr "
            "build-prompts`)"
        )
    if path.exists():
        files = DatasetFolder(path).data_files("prompts", split)
        if not files:
            raise DataError(
                f"{path} has no prompts/{split}-*.parquet: run `dsr build-prompts --out "
                f"{path}` first"
            )
        rows = _read_parquet_files(files, path)
    else:
        from datasets import load_dataset

        check_hub_dataset(str(source), what="prompts")
        try:
            rows = list(load_dataset(str(source), "prompts", split=split))
        except Exception as exc:  # the datasets library raises many unrelated types
            raise DataError(
                f"cannot load the prompts config of {source!r} ({type(exc).__name__}: {exc}): "
                "pass a local folder or a dataset repo id with a `prompts` config"
            ) from None
    missing = [i for i, r in enumerate(rows) if not r.get("prompt_id")]
    if missing:
        raise DataError(f"prompt rows {missing[:5]} have no prompt_id: rebuild the prompts config")
    return rows
