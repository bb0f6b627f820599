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
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from dsr.builders.folder import BUILD_RECORD, WORK_DIR
from dsr.errors import ConfigError, ReportInputError
from dsr.evaluation.layout import PER_SAMPLE
from dsr.locks import exclusive_lock
from dsr.report.config import ReportConfig
from dsr.report.data import Sample, index_table, pair_entries, sample_page_data, sample_roles
from dsr.report.eval_results import eval_view, is_dsr_eval, metric_keys, read_per_sample
from dsr.report.files import MANIFEST_FORMAT, ReportWriter, digest, js_assignment
from dsr.report.layout import (
    ASSETS_DIR,
    EVAL_JSON,
    INDEX_DATA,
    LOCK,
    OVERVIEW_DATA,
    OVERVIEW_PAGE,
    PAGES,
    PAIRS_DATA,
    SAMPLE_DATA,
)
from dsr.report.overview import overview_data
from dsr.report.rows import SampleRows, eval_values, read_pairs, read_samples
from dsr.report.source import (
    ReportSource,
    data_files,
    eval_results_path,
    read_json,
    resolve_source,
    split_names,
)
from dsr.report.videos import VideoResult, write_videos

__all__ = ["ReportResult", "build_report"]

log = logging.getLogger(__name__)

#: Stylesheet and scripts shipped in ``dsr/report/assets`` and copied into ``<out>/assets``.
ASSET_SUFFIXES = (".css", ".js")


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
    """Write (or bring up to date) the report of ``config.source`` in ``config.out``. When no input
    file, option, dsr version or page asset changed since the last run and its files are all there,
    nothing is read or written."""
    clock = _Clock()
    source = resolve_source(config.source, cache_dir=config.cache_dir, configs=(config.config,))
    out = _check_out(Path(config.out).expanduser(), source)
    with exclusive_lock(out / LOCK, f"the report in {out}"):  # one run at a time per folder
        return _write(config, source, out, clock)


def _write(config: ReportConfig, source: ReportSource, out: Path, clock: _Clock) -> ReportResult:
    writer = ReportWriter.open(out)
    stamp = input_stamp(source, config)
    if writer.previous.stamp == stamp and writer.previous.complete(out):
        return _unchanged(writer, clock)
    result = _build(config, source, writer, clock)
    writer.current.stamp = stamp
    writer.current.summary = {
        "samples": result.samples,
        "pairs": result.pairs,
        "problems": [str(p) for p in result.problems],
        "videos": sorted(result.videos.with_video),
    }
    result.removed = writer.finish()
    return result


def _unchanged(writer: ReportWriter, clock: _Clock) -> ReportResult:
    """The result of a run whose inputs are those of the last one: what that run reported."""
    summary = writer.previous.summary
    videos = VideoResult(with_video=set(summary.get("videos", [])))
    videos.kept = len(videos.with_video)
    clock.lap("stamp")
    return ReportResult(
        writer.out / OVERVIEW_PAGE,
        int(summary.get("samples", 0)),
        int(summary.get("pairs", 0)),
        videos,
        [],
        [],
        len(writer.previous.files),
        [ReportInputError(p) for p in summary.get("problems", [])],
        clock.laps,
    )


def input_stamp(source: ReportSource, config: ReportConfig) -> str:
    """A digest of everything a report is made from: the options, the dsr version, the page assets,
    and the name, size and modification time of every input file."""
    from dsr import __version__

    files = [source.root / BUILD_RECORD]
    for name in (config.config, "pairs", "eval"):
        files += [p for split in split_names(source, name) for p in data_files(source, name, split)]
    results = eval_results_path(
        source, Path(config.eval_results).expanduser() if config.eval_results else None
    )
    files += [results, results.parent / PER_SAMPLE] if results is not None else []
    identity = {
        str(p.relative_to(source.root) if p.is_relative_to(source.root) else p.name): [
            p.stat().st_size,
            p.stat().st_mtime_ns,
        ]
        if p.exists()
        else None
        for p in files
    }
    assets = [digest(item.read_bytes()) for item in sorted(_assets(), key=lambda i: i.name)]
    options = {k: v for k, v in asdict(config).items() if k not in ("out", "cache_dir")}
    return digest(
        json.dumps(
            [__version__, MANIFEST_FORMAT, options, identity, assets], sort_keys=True
        ).encode()
    )


def _build(
    config: ReportConfig, source: ReportSource, writer: ReportWriter, clock: _Clock
) -> ReportResult:
    """Read everything and write what changed (the files of samples that are gone are removed by
    the caller's ``writer.finish()``)."""
    samples = read_samples(source, config.config, config.splits)
    problems = [*source.problems, *samples.problems, *_duplicates(samples)]
    rows = samples.rows
    splits = tuple(sorted({str(r["split"]) for r in rows})) or config.splits
    pairs, pair_problems = read_pairs(source, splits)
    evals, eval_problems = eval_values(rows, source, splits)
    evaluation, result_problems = _eval_results(source, config.eval_results)
    problems += pair_problems + eval_problems + result_problems
    clock.lap("read")
    wanted = {s.sample_id for s in samples.samples}
    with _progress(len(wanted) * (2 if samples.has_video_column else 1)) as bar:
        videos = (
            write_videos(
                writer, source.root, samples.files, wanted, link=config.link_videos, tick=bar.update
            )
            if samples.has_video_column
            else VideoResult()
        )
        problems += _missing_videos(samples, videos, source.label)
        clock.lap("videos")
        _write_data(
            writer, source, config, samples, pairs, evals, evaluation, videos, problems, bar
        )
    _write_static(writer)
    clock.lap("pages")
    return ReportResult(
        writer.out / OVERVIEW_PAGE,
        len(samples.samples),
        len(pairs),
        videos,
        writer.written,
        [],
        writer.unchanged,
        problems,
        clock.laps,
    )


def _progress(total: int) -> Any:
    """A progress bar on a terminal (none when stderr is not one), one step per file written: each
    sample's video, then each sample's page."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total, desc="dsr report", unit="file", dynamic_ncols=True, disable=None, leave=False
    )


class _Clock:
    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name], self.start = now - self.start, now
        log.debug("report stage %s: %.2f s", name, self.laps[name])


def _check_out(out: Path, source: ReportSource) -> Path:
    """Refuse an output folder inside the dataset folder outside its work area: a push would
    upload the report with the data."""
    root, target = source.root.resolve(), out.resolve()
    inside = target == root or root in target.parents
    if inside and (root / WORK_DIR) not in (target, *target.parents):
        raise ConfigError(
            f"--out {out} lies inside the dataset folder, so a push would upload it: choose a "
            "folder outside it (or under its .dsr/ work area)"
        )
    return out


def _duplicates(samples: SampleRows) -> list[ReportInputError]:
    """Keep the first row of each sample id (a second one would overwrite its page)."""
    seen: set[str] = set()
    kept: list[Sample] = []
    dropped: list[Sample] = []
    for sample in samples.samples:
        (dropped if sample.sample_id in seen else kept).append(sample)
        seen.add(sample.sample_id)
    samples.samples[:] = kept
    if not dropped:
        return []
    return [
        ReportInputError(
            f"{len(dropped)} rows repeat a sample id (e.g. {dropped[0].sample_id}): the report "
            "shows the first row of each; rebuild the config so that each sample appears once"
        )
    ]


def _missing_videos(samples: SampleRows, videos: VideoResult, label: str) -> list[ReportInputError]:
    if not samples.has_video_column:
        return []
    missing = [s.sample_id for s in samples.samples if s.sample_id not in videos.with_video]
    if not missing:
        return []
    return [
        ReportInputError(
            f"{len(missing)} sample(s) of {label} have no video (e.g. {missing[0]}): their pages "
            "show the stored boxes without it; rebuild those samples (dsr build-videos / "
            "score-videos) to see their videos"
        )
    ]


@dataclass
class _Evaluation:
    """An ``eval_results.json`` and the per-sample rows beside it (None where absent)."""

    results: Any = None
    rows: list[dict[str, Any]] | None = None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _eval_results(
    source: ReportSource, given: str | None
) -> tuple[_Evaluation, list[ReportInputError]]:
    path = eval_results_path(source, Path(given).expanduser() if given else None)
    if path is None:
        return _Evaluation(), []
    try:
        results = read_json(path)
    except (OSError, ValueError) as exc:
        return _Evaluation(), [
            ReportInputError(
                f"{path.name} could not be read ({_first_line(exc)}): the eval results are left "
                "out; write it again with `dsr eval` or pass another file with --eval"
            )
        ]
    rows_path = path.parent / PER_SAMPLE
    if not is_dsr_eval(results) or not rows_path.is_file():
        return _Evaluation(results), []
    try:
        return _Evaluation(results, read_per_sample(rows_path, metric_keys(results))), []
    except (OSError, ValueError) as exc:
        return _Evaluation(results), [
            ReportInputError(
                f"{PER_SAMPLE} beside {path.name} could not be read ({_first_line(exc)}): the "
                "intervals of the correctness curve and of the DSR types are left out; run "
                "`dsr eval` again to write it"
            )
        ]


def _publishable(source: ReportSource, text: str) -> str:
    """``text`` with secrets masked and local paths made relative to the folder or cut to their
    last part, as in every published file of the dataset."""
    from dsr.cards import mask_local_paths, mask_secrets

    return mask_local_paths(mask_secrets(text), source.root)


#: Fields of a sample page that hold free text from settings and tools (the rest are ids, numbers
#: and the prompt): masked like a published file. Masking only these keeps a report of thousands of
#: samples from running the masks over every number.
_FREE_TEXT = (
    "reason_detail",
    "generator_settings",
    "tracker_settings",
    "notes",
    "score_settings",
    "encode_settings",
    "eval",
)


def _masked_text(source: ReportSource, page: dict[str, Any]) -> dict[str, Any]:
    free = {k: page[k] for k in _FREE_TEXT} | {"labels": page["detections"]["labels"]}
    masked = json.loads(_publishable(source, json.dumps(free, allow_nan=False)))
    labels = masked.pop("labels")
    return page | masked | {"detections": page["detections"] | {"labels": labels}}


def _write_data(
    writer: ReportWriter,
    source: ReportSource,
    config: ReportConfig,
    samples: SampleRows,
    pairs: list[dict[str, Any]],
    evals: Mapping[str, Mapping[str, float | None]],
    evaluation: _Evaluation,
    videos: VideoResult,
    problems: Sequence[ReportInputError],
    bar: Any,
) -> None:
    roles, pair_keys = sample_roles(pairs)
    for sample in samples.samples:
        sid = sample.sample_id
        page = sample_page_data(
            sample,
            has_video=sid in videos.with_video,
            role=roles.get(sid),
            pair=pair_keys.get(sid),
            eval_values=evals.get(sid),
        )
        writer.write(
            SAMPLE_DATA.format(key=page["key"]),
            js_assignment(f"samples[{json.dumps(page['key'])}]", _masked_text(source, page)),
        )
        bar.update(1)
    index = index_table(samples.samples, videos=videos.with_video, roles=roles, pairs=pair_keys)
    writer.write(INDEX_DATA, _publishable(source, js_assignment("index", index)))
    known = {s.sample_id for s in samples.samples}
    writer.write(
        PAIRS_DATA, _publishable(source, js_assignment("pairs", pair_entries(pairs, known)))
    )
    overview = overview_data(
        samples.rows,
        record=source.record,
        config=config.config,
        pairs=pairs,
        evaluation=_eval_view(writer, source, evaluation),
        source=_source_info(source, config, samples),
        problems=[str(p) for p in problems],
        videos=videos.with_video if samples.has_video_column else None,
    )
    writer.write(OVERVIEW_DATA, _publishable(source, js_assignment("overview", overview)))


def _eval_view(
    writer: ReportWriter, source: ReportSource, evaluation: _Evaluation
) -> dict[str, Any] | None:
    """The evaluation section's data; the JSON file itself is copied beside the data (masked as
    a published file) for the page to link."""
    if evaluation.results is None:
        return None
    text = json.dumps(evaluation.results, indent=2, ensure_ascii=False) + "\n"
    writer.write(EVAL_JSON, _publishable(source, text))
    return eval_view(evaluation.results, evaluation.rows, EVAL_JSON)


def _source_info(source: ReportSource, config: ReportConfig, samples: SampleRows) -> dict[str, Any]:
    from dsr import __version__

    return {
        "label": source.label,
        "revision": source.revision,
        "commit": source.commit,
        "config": config.config,
        "videos": samples.has_video_column,
        "report_version": __version__,
        "command": f"dsr report {source.label} --config {config.config} --out <folder>",
    }


def _assets() -> list[Any]:
    return list(resources.files("dsr.report").joinpath("assets").iterdir())


def _write_static(writer: ReportWriter) -> None:
    """The pages at the root of the report and the stylesheet and scripts under ``assets/``."""
    for item in _assets():
        name = item.name
        if name in PAGES:
            writer.write(name, item.read_bytes())
        elif name.endswith(ASSET_SUFFIXES):
            writer.write(f"{ASSETS_DIR}/{name}", item.read_bytes())
