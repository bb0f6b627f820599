"""``build_report``: read a dataset (folder or Hub repo), write the static report site.

Steps, each timed: resolve the source and read its rows (no video bytes) → write the videos (only
files whose source changed are read) → write the data scripts of the pages (per sample, gallery
index, pairs, overview) → copy the pages and assets → remove what a previous run wrote for samples
that are gone. Problems with the input (:class:`~dsr.errors.ReportInputError`) are collected, shown
on the overview page and returned; the rest of the report is still written.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from dsr.errors import ConfigError, ReportInputError
from dsr.report.data import index_table, pair_entries, sample_page_data, sample_roles
from dsr.report.files import ReportWriter, js_assignment
from dsr.report.layout import (
    ASSETS_DIR,
    INDEX_DATA,
    OVERVIEW_DATA,
    OVERVIEW_PAGE,
    PAGES,
    PAIRS_DATA,
    SAMPLE_DATA,
)
from dsr.report.overview import overview_data
from dsr.report.rows import SampleRows, eval_values, read_pairs, read_samples
from dsr.report.source import ReportSource, eval_results_path, read_json, resolve_source
from dsr.report.videos import VideoResult, write_videos

__all__ = ["ReportConfig", "ReportResult", "build_report"]

log = logging.getLogger(__name__)

#: Stylesheet and scripts shipped in ``dsr/report/assets`` and copied into ``<out>/assets``.
ASSET_SUFFIXES = (".css", ".js")


@dataclass(frozen=True)
class ReportConfig:
    """What to report on and where to write it."""

    source: str = field(metadata={"help": "dataset folder, or Hub dataset repo id namespace/name[@revision]"})
    out: str = field(metadata={"help": "folder to write the report into (created; index.html is the overview)"})
    config: str = field(default="samples", metadata={"help": "config whose rows are the samples (samples, "
                                                             "tracks: no videos, or an eval config)"})
    splits: tuple[str, ...] = field(default=(), metadata={"help": "splits to include (default: all)"})
    link_videos: bool = field(default=False, metadata={"help": "hard-link (or symlink) the mp4 files of the "
                                                               "folder's work area instead of copying the bytes"})
    eval_results: str | None = field(default=None, metadata={"help": "eval_results.json (or its folder) to show; "
                                                                      "default: the dataset folder's own"})
    cache_dir: str | None = field(default=None, metadata={"help": "Hub cache for a downloaded dataset"})

    def __post_init__(self) -> None:
        if not self.config or "/" in self.config:
            raise ConfigError(f"--config {self.config!r}: give a config name such as samples or tracks")


@dataclass
class ReportResult:
    """Where the report is, what it holds, what this run wrote, and the problems met."""

    index: Path
    samples: int
    pairs: int
    videos: VideoResult
    written: list[str]
    removed: list[str]
    unchanged: int
    problems: list[ReportInputError]
    seconds: dict[str, float]


def build_report(config: ReportConfig) -> ReportResult:
    """Write (or bring up to date) the report of ``config.source`` in ``config.out``."""
    clock = _Clock()
    source = resolve_source(config.source, cache_dir=config.cache_dir, configs=(config.config,))
    out = _check_out(Path(config.out).expanduser(), source)
    writer = ReportWriter.open(out)
    samples = read_samples(source, config.config, config.splits)
    problems = [*source.problems, *samples.problems, *_duplicates(samples)]
    splits = tuple(sorted({str(r["split"]) for r in samples.rows})) or config.splits
    pairs, pair_problems = read_pairs(source, splits)
    evals, eval_problems = eval_values(samples.rows, source, splits)
    results, result_problems = _eval_results(source, config.eval_results)
    problems += pair_problems + eval_problems + result_problems
    clock.lap("read")
    wanted = {str(r["sample_id"]) for r in samples.rows}
    videos = write_videos(writer, source.root, samples.files, wanted, link=config.link_videos) \
        if samples.has_video_column else VideoResult()
    problems += _missing_videos(samples, videos, source.label)
    clock.lap("videos")
    _write_data(writer, source, config, samples, pairs, evals, results, videos, problems)
    _write_static(writer)
    clock.lap("pages")
    removed = writer.finish()
    return ReportResult(out / OVERVIEW_PAGE, len(samples.rows), len(pairs), videos, writer.written, removed,
                        writer.unchanged, problems, clock.laps)


class _Clock:
    def __init__(self) -> None:
        self.start, self.laps = time.perf_counter(), {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name], self.start = now - self.start, now


def _check_out(out: Path, source: ReportSource) -> Path:
    """Refuse an output folder inside the dataset folder outside its work area: a push would
    upload the report with the data."""
    root, target = source.root.resolve(), out.resolve()
    inside = target == root or root in target.parents
    if inside and (root / ".dsr") not in (target, *target.parents):
        raise ConfigError(f"--out {out} lies inside the dataset folder, so a push would upload it: choose a folder "
                          "outside it (or under its .dsr/ work area)")
    return out


def _duplicates(samples: SampleRows) -> list[ReportInputError]:
    """Keep the first row of each sample id (a second one would overwrite its page)."""
    seen: set[str] = set()
    kept, dropped = [], []
    for row in samples.rows:
        sid = str(row["sample_id"])
        (dropped if sid in seen else kept).append(row)
        seen.add(sid)
    samples.rows[:] = kept
    if not dropped:
        return []
    return [ReportInputError(f"{len(dropped)} rows repeat a sample id (e.g. {dropped[0]['sample_id']}): the report "
                             "shows the first row of each; rebuild the config so that each sample appears once")]


def _missing_videos(samples: SampleRows, videos: VideoResult, label: str) -> list[ReportInputError]:
    if not samples.has_video_column:
        return []
    missing = [str(r["sample_id"]) for r in samples.rows if str(r["sample_id"]) not in videos.with_video]
    if not missing:
        return []
    return [ReportInputError(
        f"{len(missing)} sample(s) of {label} have no video (e.g. {missing[0]}): their pages show the stored boxes "
        "without it; rebuild those samples (dsr build-videos / score-videos) to see their videos")]


def _eval_results(source: ReportSource, given: str | None) -> tuple[Any, list[ReportInputError]]:
    path = eval_results_path(source, Path(given).expanduser() if given else None)
    if path is None:
        return None, []
    try:
        return read_json(path), []
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return None, [ReportInputError(f"{path.name} could not be read ({first}): the eval results are left out; "
                                       "write it again with `dsr eval` or pass another file with --eval")]


def _publishable(source: ReportSource, text: str) -> str:
    from dsr.cards import mask_local_paths, mask_secrets

    return mask_local_paths(mask_secrets(text), source.root)


def _write_data(writer: ReportWriter, source: ReportSource, config: ReportConfig, samples: SampleRows,
                pairs: list[dict[str, Any]], evals: Mapping[str, Mapping[str, float | None]], results: Any,
                videos: VideoResult, problems: Sequence[ReportInputError]) -> None:
    roles, pair_keys = sample_roles(pairs)
    for row in samples.rows:
        sid = str(row["sample_id"])
        page = sample_page_data(row, has_video=sid in videos.with_video, role=roles.get(sid),
                                pair=pair_keys.get(sid), eval_values=evals.get(sid))
        writer.write(SAMPLE_DATA.format(key=page["key"]),
                     _publishable(source, js_assignment(f"samples[{json.dumps(page['key'])}]", page)))
    index = index_table(samples.rows, videos=videos.with_video, roles=roles, pairs=pair_keys)
    writer.write(INDEX_DATA, _publishable(source, js_assignment("index", index)))
    known = {str(r["sample_id"]) for r in samples.rows}
    writer.write(PAIRS_DATA, _publishable(source, js_assignment("pairs", pair_entries(pairs, known))))
    overview = overview_data(
        samples.rows, record=source.record, config=config.config, pairs=pairs, eval_results=results,
        source=_source_info(source, config, samples), problems=[str(p) for p in problems],
        videos=videos.with_video if samples.has_video_column else None)
    writer.write(OVERVIEW_DATA, _publishable(source, js_assignment("overview", overview)))


def _source_info(source: ReportSource, config: ReportConfig, samples: SampleRows) -> dict[str, Any]:
    from dsr import __version__

    return {"label": source.label, "revision": source.revision, "commit": source.commit, "config": config.config,
            "videos": samples.has_video_column, "report_version": __version__,
            "command": f"dsr report {source.label} --config {config.config} --out <folder>"}


def _write_static(writer: ReportWriter) -> None:
    """The pages at the root of the report and the stylesheet and scripts under ``assets/``."""
    assets = resources.files("dsr.report").joinpath("assets")
    for item in assets.iterdir():
        name = item.name
        if name in PAGES:
            writer.write(name, item.read_bytes())
        elif name.endswith(ASSET_SUFFIXES):
            writer.write(f"{ASSETS_DIR}/{name}", item.read_bytes())
