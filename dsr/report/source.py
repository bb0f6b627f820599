"""Where a report's data comes from: a local dataset folder or a Hub repo ``namespace/name[@rev]``.

A Hub dataset is downloaded with ``snapshot_download`` (the build record, the data files of the
configs the report reads, ``eval_results.json``) into the Hub cache and then read like a local
folder. Data files are found through the build record (its content fingerprints name the current
files); a folder without a record falls back to the file names, so a report can still be written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsr.builders.dataset_source import download_dataset, looks_local
from dsr.builders.folder import BUILD_RECORD, FORMAT_VERSION, DatasetFolder, data_glob
from dsr.errors import DataError, ReportInputError

__all__ = ["EVAL_RESULTS", "ReportSource", "data_files", "resolve_source", "split_names"]

#: Results of ``dsr eval`` at the root of a folder (or given with ``--eval``).
EVAL_RESULTS = "eval_results.json"
#: Configs a report reads besides the chosen samples config.
EXTRA_CONFIGS = ("pairs", "eval")
_FILE_NAME = re.compile(
    r"(?P<split>[A-Za-z0-9_.]+?)-(?:(?P<fp>[0-9a-f]{10})-)?(?P<index>\d{5})-of-\d{5}\.parquet"
)


@dataclass
class ReportSource:
    """A dataset folder on disk, how to name it in the report, and its build record (``{}`` when
    it has none; ``problems`` then says why)."""

    root: Path
    label: str
    record: dict[str, Any] = field(default_factory=dict)
    revision: str | None = None
    commit: str | None = None
    problems: list[ReportInputError] = field(default_factory=list)

    def config_record(self, config: str) -> dict[str, Any]:
        return dict(self.record.get("configs", {}).get(config) or {})


def _read_record(root: Path, label: str) -> tuple[dict[str, Any], list[ReportInputError]]:
    """The build record, or ``{}`` and the problem (missing, damaged, newer format)."""
    if not (root / BUILD_RECORD).is_file():
        return {}, [
            ReportInputError(
                f"{label} has no {BUILD_RECORD}: the build settings and pairs counts are left out "
                "of the report; restore the file (from the Hub or a backup) or rebuild the folder "
                "with dsr to see them"
            )
        ]
    try:
        return DatasetFolder(root).read_record(), []
    except DataError as exc:
        return {}, [ReportInputError(str(exc).replace(str(root), label))]


def resolve_source(
    source: str, *, cache_dir: str | None = None, configs: tuple[str, ...] = ("samples",)
) -> ReportSource:
    """The folder of ``source``: a local dataset folder, or a Hub dataset ``repo[@revision]``
    downloaded (only what a report of ``configs`` reads) into the Hub cache."""
    path = Path(source).expanduser()
    if path.is_dir():
        _check_dataset_folder(path)
        record, problems = _read_record(path, path.name)
        return ReportSource(path, path.resolve().name, record, problems=problems)
    repo_id, _, revision = source.partition("@")
    if path.exists() or looks_local(repo_id):
        raise DataError(
            f"{source} is not a dataset folder: give the --out folder of `dsr build-videos` / "
            "`dsr score-videos`, or a Hub dataset repo id (namespace/name[@revision])"
        )
    return _download(repo_id, revision or None, configs, cache_dir)


def _check_dataset_folder(path: Path) -> None:
    """Refuse a folder with neither a build record nor any data file (e.g. the parent of the
    dataset folder), naming what it holds and the dataset folders inside it."""
    if (path / BUILD_RECORD).is_file() or any(
        _FILE_NAME.fullmatch(p.name) for p in path.glob("*/*.parquet")
    ):
        return
    entries = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
    entries = [e for e in entries if not e.startswith(".")]
    seen = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
    inside = [p for p in sorted(path.iterdir()) if (p / BUILD_RECORD).is_file()]
    hint = (
        f": did you mean {', '.join(str(p) for p in inside)}?"
        if inside
        else ": give the --out folder of `dsr build-videos` / `dsr score-videos`"
    )
    raise DataError(
        f"{path} is not a dataset folder: expected {BUILD_RECORD} and data files named "
        f"<config>/<split>-<fingerprint>-NNNNN-of-MMMMM.parquet (e.g. samples/train-…-00000-of-"
        f"00001.parquet), found {seen or 'nothing'}{hint}"
    )


def _download(
    repo_id: str, revision: str | None, configs: tuple[str, ...], cache_dir: str | None
) -> ReportSource:
    where = repo_id + (f"@{revision}" if revision else "")

    def patterns(root: Path) -> list[str]:
        return _patterns(_read_record(root, where)[0], (*configs, *EXTRA_CONFIGS))

    root = download_dataset(
        repo_id, revision, first=[BUILD_RECORD, EVAL_RESULTS], then=patterns, cache_dir=cache_dir
    )
    record, problems = _read_record(root, where)
    return ReportSource(
        root, where, record, revision=revision or "main", commit=root.name, problems=problems
    )


def _patterns(record: dict[str, Any], configs: tuple[str, ...]) -> list[str]:
    """Download patterns of the current data files of ``configs`` (all their files
    without a record)."""
    recs = record.get("configs", {})
    out = []
    for config in configs:
        rec = recs.get(config)
        if rec is None:
            out.append(f"{config}/*.parquet")
            continue
        fingerprints = rec.get("data_fingerprints", {})
        out += [
            data_glob(config, split, fingerprints.get(split)) for split in rec.get("splits", {})
        ]
    return out


def split_names(source: ReportSource, config: str) -> list[str]:
    """The splits of ``config``: from the build record, else from the file names (train first)."""
    rec = source.config_record(config)
    names = (
        list(rec.get("splits", {}))
        if rec
        else sorted(
            {
                m["split"]
                for p in (source.root / config).glob("*.parquet")
                if (m := _FILE_NAME.fullmatch(p.name))
            }
        )
    )
    return sorted(names, key=lambda s: ({"train": 0, "test": 1}.get(s, 2), s))


def data_files(source: ReportSource, config: str, split: str) -> list[Path]:
    """The parquet files of one split. With a record: the files its fingerprint names. Without: of
    the file sets found for the split (one per fingerprint), the newest."""
    if source.config_record(config):
        return DatasetFolder(source.root).data_files(config, split)
    groups: dict[str, list[Path]] = {}
    for path in (source.root / config).glob(f"{split}-*.parquet"):
        match = _FILE_NAME.fullmatch(path.name)
        if match and match["split"] == split:
            groups.setdefault(match["fp"] or "", []).append(path)
    if not groups:
        return []
    newest = max(groups.values(), key=lambda files: max(p.stat().st_mtime_ns for p in files))
    return sorted(newest)


def record_format(source: ReportSource) -> int | None:
    """The folder's format version (None without a record)."""
    return source.record.get("format_version", FORMAT_VERSION) if source.record else None


def eval_results_path(source: ReportSource, given: Path | None) -> Path | None:
    """``--eval`` (a file, or a folder holding ``eval_results.json``), else the
    folder's own file."""
    if given is not None:
        return given / EVAL_RESULTS if given.is_dir() else given
    own = source.root / EVAL_RESULTS
    return own if own.is_file() else None


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
