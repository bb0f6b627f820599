"""Where a built dataset is read from: a local folder, or a Hub dataset repo at a revision.

:func:`resolve_dataset` turns either into a local dataset folder: a Hub dataset is downloaded with
``snapshot_download`` (only its build record and the data files of the configs asked for, into the
Hub cache) and then read exactly like a local folder. Training, evaluation, the judge and the
report all read their input through it. :func:`iter_video_bytes` streams the mp4 bytes of chosen
samples from the parquet files without loading the rest of the rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsr.builders.folder import DatasetFolder
from dsr.errors import DataError
from dsr.layout import BUILD_RECORD, data_glob

__all__ = [
    "DatasetSource",
    "check_hub_dataset",
    "download_dataset",
    "iter_file_video_bytes",
    "iter_video_bytes",
    "looks_local",
    "resolve_dataset",
]


@dataclass(frozen=True)
class DatasetSource:
    """A dataset folder on disk and where it came from (for the model card)."""

    root: Path
    repo_id: str | None = None
    revision: str | None = None
    commit: str | None = None

    def describe(self) -> dict[str, Any]:
        """Where the data came from, without local paths when it came from the Hub."""
        if self.repo_id:
            return {"repo_id": self.repo_id, "revision": self.revision, "commit": self.commit}
        return {"local_folder": self.root.name}


def looks_local(source: str) -> bool:
    """A path rather than a Hub repo id (``namespace/name``): absolute, relative, home-relative,
    with no separator or more than one, with a backslash, a first part that is a local folder
    (``data/dsr`` where ``data/`` exists), or a name the Hub does not allow."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if (
        source.startswith(("/", "./", "../", "~", "."))
        or source.count("/") != 1
        or "\\" in source
        or Path(source.split("/")[0]).is_dir()
    ):
        return True
    try:
        validate_repo_id(source)
    except HFValidationError:
        return True
    return False


def check_hub_dataset(repo_id: str, revision: str | None = None, *, what: str = "dataset") -> None:
    """One quick question to the Hub (no retries) before a library that retries for half a minute
    is asked to load ``repo_id``: a repo that is not there, or a Hub that cannot be reached, is one
    ``DataError`` at once. Nothing is asked in offline mode (the cache answers then)."""
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import RepositoryNotFoundError

    if constants.HF_HUB_OFFLINE:
        return
    try:
        HfApi().dataset_info(repo_id, revision=revision, timeout=10)
    except RepositoryNotFoundError:
        raise DataError(
            f"{what} {repo_id} is neither a local folder nor a dataset on the Hub: give an "
            "existing folder, or a Hub dataset repo id (namespace/name; HF_TOKEN for a private one)"
        ) from None
    except Exception as exc:  # HTTP errors, and the HTTP client's own connection errors
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DataError(
            f"{what} {repo_id} is not a local folder, and the Hub could not be asked for a dataset "
            f"of that name ({first}): give an existing folder, or check the network"
        ) from None


def resolve_dataset(
    source: str,
    revision: str | None = None,
    *,
    configs: tuple[str, ...] = ("pairs", "samples"),
    split: str = "train",
    cache_dir: str | None = None,
) -> DatasetSource:
    """A local dataset folder for ``source`` (a folder, or a Hub dataset repo id
    at ``revision``)."""
    path = Path(source).expanduser()
    if path.is_dir():
        if revision:
            raise DataError(
                f"--dataset-revision {revision} applies to Hub datasets; {source} is a local folder"
            )
        return DatasetSource(path)
    if path.exists() or looks_local(source):
        raise DataError(
            f"dataset {source} is not a folder: give the --out folder of `dsr build-videos` "
            "or a Hub dataset repo id (namespace/name)"
        )
    return _download(source, revision, configs, split, cache_dir)


def _download(
    repo_id: str, revision: str | None, configs: tuple[str, ...], split: str, cache_dir: str | None
) -> DatasetSource:
    def patterns(root: Path) -> list[str]:
        path = root / BUILD_RECORD
        record = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        recs = record.get("configs", {})
        return [
            data_glob(c, split, (recs.get(c) or {}).get("data_fingerprints", {}).get(split))
            for c in configs
        ]

    root = download_dataset(
        repo_id, revision, first=[BUILD_RECORD], then=patterns, cache_dir=cache_dir
    )
    return DatasetSource(root, repo_id=repo_id, revision=revision or "main", commit=root.name)


def download_dataset(
    repo_id: str,
    revision: str | None,
    *,
    first: list[str],
    then: Callable[[Path], list[str]],
    cache_dir: str | None = None,
) -> Path:
    """The snapshot folder of a Hub dataset holding only what is needed, in two steps: the files
    ``first`` (the build record: which data files are current), then those plus the patterns that
    ``then`` derives from the folder. Hub and network errors become one-line ``DataError``s."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RevisionNotFoundError,
    )

    def fetch(patterns: list[str]) -> Path:
        return Path(
            snapshot_download(
                repo_id,
                repo_type="dataset",
                revision=revision,
                allow_patterns=patterns,
                cache_dir=cache_dir,
            )
        )

    try:
        root = fetch(first)
        return fetch([*first, *then(root)])
    except RevisionNotFoundError:
        raise DataError(
            f"dataset {repo_id} has no revision {revision!r}: give an existing tag, "
            "branch or commit"
        ) from None
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DataError(
            f"cannot download dataset {repo_id}{'@' + revision if revision else ''}: {first_line} "
            "(check the repo id, HF_TOKEN for private repos, or pass a local folder)"
        ) from None


def iter_video_bytes(
    source: DatasetSource,
    wanted: set[str],
    *,
    samples_config: str = "samples",
    split: str = "train",
    batch_rows: int = 8,
) -> Iterator[tuple[str, bytes | None]]:
    """(sample_id, mp4 bytes) of the wanted samples, streamed from the parquet files
    in small batches."""
    for path in DatasetFolder(source.root).data_files(samples_config, split):
        yield from iter_file_video_bytes(path, wanted, batch_rows=batch_rows)


def iter_file_video_bytes(
    path: Path, wanted: set[str], *, batch_rows: int = 8
) -> Iterator[tuple[str, bytes | None]]:
    """(sample_id, mp4 bytes) of the wanted samples of one parquet file, ``batch_rows`` rows at a
    time (only the sample id and video columns are read, and nothing more when none is wanted).

    Arrow holds one row group at a time: pyarrow's default ``pre_buffer=True`` would read the
    video column of every row group of the file at once (a whole file, up to 200 MB)."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path, pre_buffer=False)
    if not wanted or wanted.isdisjoint(parquet.read(columns=["sample_id"]).column(0).to_pylist()):
        return  # none here: the video bytes are not read at all
    for batch in parquet.iter_batches(batch_size=batch_rows, columns=["sample_id", "video"]):
        for sid, video in zip(
            batch.column("sample_id").to_pylist(), batch.column("video").to_pylist(), strict=True
        ):
            if sid in wanted:
                yield sid, (video or {}).get("bytes")
