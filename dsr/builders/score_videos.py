"""``score-videos``: score a folder of existing videos (any text-to-video model's) against a
prompts dataset, into the same ``samples`` and ``pairs`` configs as ``build-videos``.

Videos are matched to prompts by file name — ``{prompt_id}_seed{NN}.mp4`` or the paper's
``{prompt_id}_F81_seed{NN}.mp4`` (any ``_F<frames>``) — or by a mapping file (CSV or JSON rows with
``file``, ``prompt_id``, ``seed``). The ``prompt_id`` there may also be a prompt's ``source_id``
(the id of an imported list, e.g. the authors' ``1043_TL``). Every matched video goes through the
per-sample step of ``build-videos`` (:func:`dsr.builders.samples.build_sample`; a corrupt file
becomes an invalid sample with its reason) and is committed to the same resumable work area, then
merged by :func:`dsr.builders.consolidate.consolidate`. Files that match no prompt and prompts
without any video are listed in the log, the build record and the card, never silently dropped.

Re-runs into the same ``--out``: a finished sample is reused only when its inputs are unchanged
(:func:`input_digest`: the video's content, the prompt and the settings); one whose video or prompt
changed is scored again. A split scored with another model name, tracker or score settings, or by
``build-videos``, or holding samples whose video is no longer among VIDEOS, is refused with the
fix (a fresh ``--out``), so the rows and the record always describe the same videos.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dsr.builders.consolidate import ConsolidateResult, consolidate
from dsr.builders.folder import ConfigRecord, DatasetFolder
from dsr.builders.pairs import DEFAULT_TAU_TRAIN
from dsr.builders.prompt_source import load_prompt_records
from dsr.builders.samples import PROMPT_FIELDS, build_sample
from dsr.builders.work import SCORED_STAGE, ShardSpec, WorkArea, without_device
from dsr.errors import ConfigError, DataError
from dsr.fileio import read_text_file
from dsr.limits import MAX_ROWS_PER_SHARD, MAX_SEED, check_max
from dsr.paper_exact import paper_exact_config, paper_exact_options, preset_help
from dsr.progress import progress_bar
from dsr.scoring import ScoreConfig
from dsr.tracking.base import DEFAULT_TRACKER

__all__ = [
    "FILE_PATTERN",
    "Matching",
    "ScoreVideosConfig",
    "ScoreVideosResult",
    "input_digest",
    "match_videos",
    "score_videos",
]

log = logging.getLogger(__name__)

#: ``<prompt_id>[_F<frames>]_seed<NN>.mp4``
FILE_PATTERN = re.compile(r"^(?P<prompt_id>.+?)(?:_F\d+)?_seed(?P<seed>\d+)$")
#: The settings every scored sample of a split shares; another value needs a fresh ``--out``.
RECIPE_KEYS = ("stage", "model_name", "tracker", "score")
#: The key of a work-area row that holds its :func:`input_digest` (not a column of ``samples``).
DIGEST = "input_digest"


@dataclass
class ScoreVideosConfig:
    """Everything ``dsr score-videos`` needs."""

    videos: str = field(metadata={"help": "Folder of mp4 files (searched recursively)."})
    prompts: str = field(
        metadata={"help": "Dataset folder or Hub repo id with a `prompts` config."}
    )
    out: str = field(metadata={"help": "Dataset folder to add `samples` and `pairs` to."})
    splits: tuple[str, ...] = field(
        default=("train", "test"),
        metadata={"help": "Prompt splits to match (missing splits are skipped)."},
    )
    mapping: str | None = field(
        default=None,
        metadata={"help": "CSV/JSON with file,prompt_id,seed (instead of matching file names)."},
    )
    tracker: str = field(
        default=DEFAULT_TRACKER, metadata={"help": "Tracker: grounded-sam2, sam3 or annotations."}
    )
    tracker_options: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "Keyword options of the tracker."}
    )
    model_name: str = field(
        default="file",
        metadata={
            "help": (
                "Name of the model that made the videos (stored per sample, in the "
                "`generator` column)."
            )
        },
    )
    tau_train: float = field(
        default=DEFAULT_TAU_TRAIN, metadata={"help": "Winner/loser threshold of the pairs."}
    )
    score: ScoreConfig = field(
        default_factory=ScoreConfig, metadata={"help": "DSR-Score settings."}
    )
    rows_per_shard: int = field(
        default=200,
        metadata={
            "help": "Most rows per parquet file of `samples` (files also stay under 200 MB)."
        },
    )
    paper_exact: bool = field(
        default=False,
        metadata={
            "help": "The authors' tracker behaviour wherever ours differs, recorded in the "
            f"settings: {preset_help(from_files=True)}. Refused with sam3."
        },
    )
    command: str = field(default="", metadata={"help": "Command line recorded in the card."})

    def __post_init__(self) -> None:
        if self.paper_exact:
            self.score = paper_exact_config("score", "dsr-score", self.score)
        if not Path(self.videos).is_dir():
            raise ConfigError(
                f"videos folder {self.videos!r} does not exist: pass a folder of mp4 files"
            )
        if self.mapping is not None and not Path(self.mapping).is_file():
            raise ConfigError(
                f"mapping file {self.mapping!r} does not exist: pass a CSV/JSON with "
                "file,prompt_id,seed"
            )
        if not self.splits:
            raise ConfigError(
                "ScoreVideosConfig.splits is empty: name at least one prompt split (train, test)"
            )
        if self.rows_per_shard < 1:
            raise ConfigError(f"rows_per_shard={self.rows_per_shard} must be ≥ 1 (default 200)")
        check_max("rows_per_shard", self.rows_per_shard, MAX_ROWS_PER_SHARD, "default 200")


@dataclass
class Matching:
    """Which files go with which (prompt_id, seed), and what could not be matched."""

    matched: dict[tuple[str, int], Path] = field(default_factory=dict)
    unmatched_files: dict[str, str] = field(default_factory=dict)
    prompts_without_videos: dict[str, list[str]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "matched_videos": len(self.matched),
            "unmatched_files": len(self.unmatched_files),
            "prompts_without_videos": sum(len(v) for v in self.prompts_without_videos.values()),
        }


@dataclass
class ScoreVideosResult:
    matching: Matching
    built: int = 0
    skipped: int = 0
    redone: int = 0  # of ``built``: finished before, scored again because their inputs changed
    valid: int = 0
    merged: ConsolidateResult | None = None
    out: Path | None = None


def _read_mapping(path: Path) -> list[dict[str, Any]]:
    fix = "use CSV or JSON rows with file,prompt_id,seed"
    text = read_text_file(path, "a mapping file", fix)
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
            rows = data if isinstance(data, list) else [{"file": k, **v} for k, v in data.items()]
        else:
            rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except (json.JSONDecodeError, OSError, csv.Error, TypeError, AttributeError) as exc:
        raise DataError(
            f"mapping file {path} is not readable ({exc}): use CSV or JSON rows with "
            "file,prompt_id,seed"
        ) from None
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not all(
            row.get(k) not in (None, "") for k in ("file", "prompt_id", "seed")
        ):
            raise DataError(
                f"mapping file {path} row {i} needs file, prompt_id and seed, got {row!r}"
            )
        row["seed"] = _mapped_seed(path, i, row["seed"])
    return rows


def _mapped_seed(path: Path, row: int, value: Any) -> int:
    """The seed of a mapping row as an integer in 0..MAX_SEED (CSV gives text)."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) > MAX_SEED:
        raise DataError(
            f"mapping file {path} row {row}: seed {value!r} is not an integer in 0..{MAX_SEED}: "
            "give the seed the video was generated with"
        )
    return int(text)


def _pairs_from_names(files: list[Path]) -> list[tuple[Path, str | None, int | None]]:
    out: list[tuple[Path, str | None, int | None]] = []
    for path in files:
        hit = FILE_PATTERN.match(path.stem)
        out.append((path, hit["prompt_id"], int(hit["seed"])) if hit else (path, None, None))
    return out


def _pairs_from_mapping(
    files: list[Path], root: Path, mapping: Path
) -> list[tuple[Path, str | None, int | None]]:
    by_name = {str(p.relative_to(root)): p for p in files}
    by_name.update({p.name: p for p in files})
    rows = {str(r["file"]): (str(r["prompt_id"]), int(r["seed"])) for r in _read_mapping(mapping)}
    out: list[tuple[Path, str | None, int | None]] = []
    for name, (pid, seed) in rows.items():
        out.append((by_name.get(name, root / name), pid, seed))
    mapped = {p for p, _, _ in out}
    out.extend((p, None, None) for p in files if p not in mapped)
    return out


def _source_ids(records: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """``source_id`` → ``prompt_id`` for the prompts imported with an id of their own (ids that
    name several prompts are left out: a file named by one could be either)."""
    named: dict[str, list[str]] = {}
    for pid, record in records.items():
        if record.get("source_id"):
            named.setdefault(str(record["source_id"]), []).append(pid)
    for source_id, pids in named.items():
        if len(pids) > 1:
            log.warning(
                "source id %r names %d prompts (%s): files are not matched by it",
                source_id,
                len(pids),
                ", ".join(pids[:3]),
            )
    return {source_id: pids[0] for source_id, pids in named.items() if len(pids) == 1}


def match_videos(
    videos: Path, records: Mapping[str, Mapping[str, Any]], mapping: Path | None = None
) -> Matching:
    """Match the mp4 files under ``videos`` to prompt ids of ``records`` (by name or mapping; a
    prompt's ``source_id`` names it too)."""
    found = sorted(p for p in videos.rglob("*") if p.is_file() and not p.name.startswith("."))
    mp4s = [p for p in found if p.suffix.lower() == ".mp4"]  # "clip.MP4" too
    pairs = _pairs_from_mapping(found, videos, mapping) if mapping else _pairs_from_names(mp4s)
    aliases = _source_ids(records)
    result = Matching()
    if not mapping:  # listed, so that a folder of .mov/.webm files does not just look empty
        result.unmatched_files.update(
            {str(p.relative_to(videos)): "not an .mp4 file" for p in found if p not in mp4s}
        )
    for path, pid, seed in pairs:
        name = str(path.relative_to(videos)) if path.is_relative_to(videos) else str(path)
        pid = pid if pid is None or pid in records else aliases.get(pid, pid)
        if pid is None or seed is None:
            result.unmatched_files[name] = (
                "not in the mapping file"
                if mapping
                else "name is not <prompt_id>[_F<n>]_seed<NN>.mp4"
            )
        elif not path.is_file():
            result.unmatched_files[name] = "listed in the mapping file but missing"
        elif pid not in records:
            result.unmatched_files[name] = f"prompt_id {pid!r} is not in the prompts dataset"
        elif (pid, seed) in result.matched:
            result.unmatched_files[name] = (
                f"duplicate of {result.matched[(pid, seed)].name} for ({pid}, seed {seed})"
            )
        else:
            result.matched[(pid, seed)] = path
    have = {pid for pid, _ in result.matched}
    for pid, record in sorted(records.items()):
        if pid not in have:
            result.prompts_without_videos.setdefault(str(record.get("split") or ""), []).append(pid)
    return result


def _load_records(config: ScoreVideosConfig) -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    errors = []
    for split in config.splits:
        try:
            rows = load_prompt_records(config.prompts, split)
        except DataError as exc:
            errors.append(str(exc))
            continue
        records.update({str(r["prompt_id"]): {**r, "split": r.get("split") or split} for r in rows})
    if not records:
        raise DataError(
            f"no prompts found in {config.prompts!r} for splits {list(config.splits)}: "
            + "; ".join(errors)
        )
    return records


def _file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's content, read in chunks (``hashlib.file_digest`` needs Python 3.11)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def input_digest(video: Path, record: Mapping[str, Any], recipe: Mapping[str, Any]) -> str:
    """What a scored row depends on: the video file's content, the prompt and the settings (devices
    aside). A finished row is reused only while this stays the same."""
    try:
        content = _file_sha256(video)
    except OSError as exc:  # build_sample records why the file cannot be read
        content = f"unreadable: {exc}"
    prompt = {k: record.get(k) for k in ("prompt_id", "split", *PROMPT_FIELDS)}
    text = json.dumps([content, prompt, without_device(dict(recipe))], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _recipe(config: ScoreVideosConfig, tracker: Any) -> dict[str, Any]:
    recipe = {
        "stage": SCORED_STAGE,
        "model_name": config.model_name,
        "tracker": tracker.settings(),
        "score": asdict(config.score),
    }
    return dict(json.loads(json.dumps(recipe, sort_keys=True, default=str)))


def _settings(
    config: ScoreVideosConfig, recipe: dict[str, Any], matching: Matching
) -> dict[str, Any]:
    return {
        **recipe,
        "videos": config.videos,
        "prompts": config.prompts,
        "mapping": config.mapping,
        "tau_train": config.tau_train,
        "paper_exact": config.paper_exact,
        "matching": {
            "unmatched_files": matching.unmatched_files,
            "prompts_without_videos": matching.prompts_without_videos,
        },
    }


def _check_split(
    work: WorkArea,
    config: ScoreVideosConfig,
    split: str,
    settings: dict[str, Any],
    matched: set[tuple[str, int]],
) -> None:
    """Refuse a split whose finished samples this run would not describe; then record the run."""
    previous = work.build_record(split)
    finished = work.finished(split)
    if (
        previous is not None
        and finished
        and previous.get("settings", {}).get("stage") != SCORED_STAGE
    ):
        raise ConfigError(
            f"{work.folder.root} holds {split} samples made by build-videos: score these videos "
            "into another --out (a fresh folder)"
        )
    work.check_recipe(split, settings, RECIPE_KEYS)
    stale = sorted(finished - matched)
    if stale:
        raise ConfigError(
            f"{len(stale)} finished {split} samples of {work.folder.root} have no video in "
            f"{config.videos} (e.g. {stale[0][0]} seed {stale[0][1]}): score into a fresh --out, "
            "or put those videos back"
        )
    work.record_build(split, settings, config.command)


def score_videos(config: ScoreVideosConfig, tracker: Any = None) -> ScoreVideosResult:
    """Match, track and score every video; write ``samples`` and ``pairs`` into ``config.out``."""
    from dsr.tracking import TRACKERS

    if tracker is None:  # bad options fail here, before any file is read
        options = dict(config.tracker_options)
        if config.paper_exact:
            options = paper_exact_options("tracker", config.tracker, options, from_files=True)
        tracker = TRACKERS.create(config.tracker, options)
    records = _load_records(config)
    matching = match_videos(
        Path(config.videos), records, Path(config.mapping) if config.mapping else None
    )
    if not matching.matched:
        raise DataError(_nothing_matched(config, records, matching))
    _log_matching(matching)
    folder = DatasetFolder(config.out)
    work = WorkArea(folder)
    result = ScoreVideosResult(matching, out=folder.root)
    by_split: dict[str, set[tuple[str, int]]] = {}
    for pid, seed in matching.matched:
        by_split.setdefault(str(records[pid]["split"]), set()).add((pid, seed))
    with contextlib.ExitStack() as held:
        for split in sorted(
            by_split
        ):  # before the tracker loads its models: a refused second run costs nothing
            held.enter_context(work.claim(split, ShardSpec(0, 1)))
        recipe = _recipe(config, tracker)
        settings = _settings(config, recipe, matching)
        for split, matched in sorted(by_split.items()):
            with work.gate(split):
                _check_split(work, config, split, settings, matched)
        _run(config, records, matching, work, tracker, result, recipe)
    if result.built + result.skipped:
        result.merged = consolidate(
            folder,
            tau_train=config.tau_train,
            rows_per_shard=config.rows_per_shard,
            command=config.command,
            settings=settings,
        )
        _record_matching(folder, matching)
    return result


def _finished_digests(work: WorkArea, splits: set[str]) -> dict[tuple[str, int], str | None]:
    return {
        (str(row["prompt_id"]), int(row["seed"])): row.get(DIGEST)
        for split in splits
        for row, _, _ in work.rows(split)
    }


def _run(
    config: ScoreVideosConfig,
    records: Mapping[str, Mapping[str, Any]],
    matching: Matching,
    work: WorkArea,
    tracker: Any,
    result: ScoreVideosResult,
    recipe: dict[str, Any],
) -> None:
    shard = ShardSpec(0, 1)
    finished = _finished_digests(work, {str(records[pid]["split"]) for pid, _ in matching.matched})
    for (pid, seed), path in progress_bar(
        sorted(matching.matched.items()), desc="score-videos", unit="video"
    ):
        record = records[pid]
        split = str(record["split"])
        digest = input_digest(path, record, recipe)
        if (pid, seed) in finished:
            if finished[(pid, seed)] == digest:
                result.skipped += 1
                continue
            log.info(
                "%s seed %d: the video, prompt or settings changed since it was "
                "scored: scoring again",
                pid,
                seed,
            )
            result.redone += 1
        row = build_sample(
            record,
            seed,
            path,
            tracker,
            split=split,
            generator=config.model_name,
            generator_settings={"source_file": path.name},
            score=config.score,
        )
        work.commit(split, shard, {**row, DIGEST: digest})
        result.built += 1
        result.valid += bool(row["valid"])


def _nothing_matched(
    config: ScoreVideosConfig, records: Mapping[str, Mapping[str, Any]], matching: Matching
) -> str:
    """Why no video matched: the expected names, and the first files seen with the reason."""
    seen = sorted(matching.unmatched_files.items())
    shown = "; ".join(f"{name} ({why})" for name, why in seen[:3])
    more = f" and {len(seen) - 3} more" if len(seen) > 3 else ""
    example = f"{sorted(records)[0]}_seed00.mp4"
    expected = (
        f"rows file,prompt_id,seed in {config.mapping} naming existing videos"
        if config.mapping
        else "files named <prompt_id>[_F<frames>]_seed<NN>.mp4 with a prompt id of "
        f"{config.prompts} (e.g. {example})"
    )
    return (
        f"no video in {config.videos} matches a prompt of splits {', '.join(config.splits)}: "
        f"expected {expected}; "
        + (f"found {shown}{more}" if seen else "found no files")
        + " (rename the files, or pass --mapping FILE)"
    )


def _log_matching(matching: Matching) -> None:
    log.info("matched %d videos", len(matching.matched))
    for name, why in sorted(matching.unmatched_files.items()):
        log.warning("unmatched file %s: %s", name, why)
    for split, pids in matching.prompts_without_videos.items():
        log.warning(
            "%d %s prompts have no video: %s",
            len(pids),
            split or "?",
            ", ".join(pids[:10]) + (" …" if len(pids) > 10 else ""),
        )


def _record_matching(folder: DatasetFolder, matching: Matching) -> None:
    """Add the matching counts and lists to the ``samples`` record and card section."""
    rec = folder.config_record("samples")
    if rec is None:
        return
    rec.setdefault("counts", {})["matching"] = matching.counts()
    lines = [f"- `{name}`: {why}" for name, why in sorted(matching.unmatched_files.items())]
    lines += [
        f"- prompt without video ({split}): `{pid}`"
        for split, pids in matching.prompts_without_videos.items()
        for pid in pids
    ]
    section = "\n\n**Matching of video files to prompts**\n\n" + ", ".join(
        f"{k}: {v}" for k, v in matching.counts().items()
    )
    if lines:
        section += "\n\n" + "\n".join(lines[:200]) + ("\n- …" if len(lines) > 200 else "")
    rec["card_markdown"] = rec.get("card_markdown", "") + section + "\n"
    folder.update_record("samples", ConfigRecord(**rec))
