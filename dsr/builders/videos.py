"""``build-videos``: for every prompt and seed, generate → track → validity → DSR-Score, committed
per sample to the work area (see :mod:`dsr.builders.work`), then merged into the ``samples`` and
``pairs`` configs (see :mod:`dsr.builders.consolidate`).

Resumable (finished (prompt_id, seed) pairs are skipped), sharded (disjoint slices per process,
from options or RANK/WORLD_SIZE), and the merge of all shards equals a single-process build.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import groupby
from pathlib import Path
from typing import Any

from dsr.builders.consolidate import ConsolidateResult, consolidate
from dsr.builders.folder import WORK_DIR, DatasetFolder
from dsr.builders.pairs import DEFAULT_TAU_TRAIN
from dsr.builders.prompt_source import load_prompt_records
from dsr.builders.samples import GENERATION_FAILED, build_sample, invalid_sample
from dsr.builders.work import (
    SCORED_STAGE,
    VIDEOS_DIR,
    ShardSpec,
    WorkArea,
    resolve_shard,
    slice_items,
    without_device,
    work_order,
)
from dsr.errors import BusyError, ConfigError, DsrError, ModelLoadError, PromptParseError
from dsr.limits import (
    MAX_BATCH_SIZE,
    MAX_ROWS_PER_SHARD,
    MAX_SEED,
    MAX_SEEDS_PER_PROMPT,
    MAX_SHARDS,
    check_max,
)
from dsr.media import EncodeConfig
from dsr.paper_exact import TRACKER_PRESET_HELP, paper_exact_config, paper_exact_options
from dsr.progress import progress_bar
from dsr.prompts import parse_prompt
from dsr.scoring import ScoreConfig
from dsr.tracking.base import DEFAULT_TRACKER

__all__ = [
    "DEFAULT_SEEDS",
    "BuildResult",
    "VideoBuildConfig",
    "build_videos",
    "keep_recorded_defaults",
]

log = logging.getLogger(__name__)

#: docs/method.md §2: 10 samples per train prompt (seeds 0..9), 5 per test prompt (seeds 0..4).
DEFAULT_SEEDS = {"train": 10, "test": 5}


@dataclass
class VideoBuildConfig:
    """Everything ``dsr build-videos`` needs."""

    prompts: str = field(
        metadata={"help": "Dataset folder or Hub repo id with a `prompts` config."}
    )
    out: str = field(metadata={"help": "Dataset folder to add `samples` and `pairs` to."})
    split: str = field(
        default="train",
        metadata={"help": "Prompt split to sample.", "choices": tuple(DEFAULT_SEEDS)},
    )
    generator: str = field(
        default="wan",
        metadata={"help": "Video generator: wan, cogvideox, ltx, hunyuanvideo15 or synthetic."},
    )
    generator_options: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "Option of the generator as KEY=VALUE, e.g. num_inference_steps=30."},
    )
    tracker: str = field(
        default=DEFAULT_TRACKER, metadata={"help": "Tracker: annotations, grounded-sam2 or sam3."}
    )
    tracker_options: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "Keyword options of the tracker."}
    )
    seeds: tuple[int, ...] | None = field(
        default=None,
        metadata={
            "help": (
                "Explicit seeds, e.g. 0-9 or 0,3,7 [default: 0..N-1, N from samples_per_prompt]."
            )
        },
    )
    samples_per_prompt: int | None = field(
        default=None, metadata={"help": "Seeds 0..N-1 per prompt [default: 10 train, 5 test]."}
    )
    limit: int | None = field(
        default=None,
        metadata={
            "help": (
                "Only the first N prompts (DSR types interleaved: LT, TL, RT, LR, TR, RL, LT, ...)."
            )
        },
    )
    batch_size: int = field(default=1, metadata={"help": "Seeds of one prompt per generator call."})
    num_shards: int | None = field(
        default=None, metadata={"help": "Shards in all [default: WORLD_SIZE or 1]."}
    )
    shard_index: int | None = field(
        default=None, metadata={"help": "This shard [default: RANK or 0]."}
    )
    tau_train: float = field(
        default=DEFAULT_TAU_TRAIN, metadata={"help": "Winner/loser threshold of the pairs."}
    )
    score: ScoreConfig = field(
        default_factory=ScoreConfig, metadata={"help": "DSR-Score settings."}
    )
    encode: EncodeConfig = field(
        default_factory=EncodeConfig, metadata={"help": "How the mp4 files are encoded."}
    )
    rows_per_shard: int = field(
        default=200,
        metadata={
            "help": "Most rows per parquet file of `samples` (files also stay under 200 MB)."
        },
    )
    consolidate: bool = field(
        default=True, metadata={"help": "Merge into configs once every shard is done."}
    )
    paper_exact: bool = field(
        default=False,
        metadata={
            "help": "The authors' behaviour wherever ours differs, recorded in the settings: "
            f"{TRACKER_PRESET_HELP} and, for wan, the Euler sampler with shift 5 conditioned on "
            "bf16 timesteps (sampler=euler, flow_shift=5.0, timestep_dtype=bfloat16). Refused "
            "with sam3."
        },
    )
    command: str = field(default="", metadata={"help": "Command line recorded in the card."})

    def __post_init__(self) -> None:
        if self.paper_exact:
            self.score = paper_exact_config("score", "dsr-score", self.score)
        if self.split not in DEFAULT_SEEDS:
            raise ConfigError(f"split={self.split!r}: choose train or test")
        if self.batch_size < 1 or (
            self.samples_per_prompt is not None and self.samples_per_prompt < 1
        ):
            raise ConfigError("batch_size and samples_per_prompt must be ≥ 1")
        if self.seeds is not None and self.samples_per_prompt is not None:
            raise ConfigError("give either seeds or samples_per_prompt, not both")
        if self.seeds is not None and (not self.seeds or len(set(self.seeds)) != len(self.seeds)):
            raise ConfigError(f"seeds={self.seeds}: need at least one seed and no repeats")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(
                f"limit={self.limit}: give at least 1 prompt, or leave --limit out for all"
            )
        if not 0.0 <= self.tau_train <= 1.0:
            raise ConfigError(f"tau_train={self.tau_train} must lie in [0, 1] (the paper uses 0.7)")
        if self.rows_per_shard < 1:
            raise ConfigError(f"rows_per_shard={self.rows_per_shard} must be ≥ 1 (default 200)")
        self._check_sizes()

    def _check_sizes(self) -> None:
        """Absurd sizes are refused here, before anything is loaded or generated."""
        check_max(
            "samples_per_prompt",
            self.samples_per_prompt or 0,
            MAX_SEEDS_PER_PROMPT,
            "the paper uses 10 / 5",
        )
        check_max(
            "number of seeds", len(self.seeds or ()), MAX_SEEDS_PER_PROMPT, "the paper uses 10 / 5"
        )
        if self.seeds is not None and not all(0 <= int(s) <= MAX_SEED for s in self.seeds):
            raise ConfigError(
                f"seeds must lie in 0..{MAX_SEED}, got {min(self.seeds)}..{max(self.seeds)}"
            )
        check_max("batch_size", self.batch_size, MAX_BATCH_SIZE, "the paper uses 1")
        check_max("rows_per_shard", self.rows_per_shard, MAX_ROWS_PER_SHARD, "default 200")
        check_max("num_shards", self.num_shards or 0, MAX_SHARDS)

    def seed_list(self) -> list[int]:
        if self.seeds is not None:
            return [int(s) for s in self.seeds]
        return list(range(self.samples_per_prompt or DEFAULT_SEEDS[self.split]))


@dataclass
class BuildResult:
    """What one process did, and the merge if it ran."""

    shard: ShardSpec
    total: int
    skipped: int
    built: int
    valid: int
    correct_07: int
    merged: ConsolidateResult | None = None
    out: Path = Path(".")


def _options(kind: str, name: str, options: Mapping[str, Any], paper_exact: bool) -> dict[str, Any]:
    """The options a component is built with: the user's, with the authors' values under
    ``paper_exact``."""
    return paper_exact_options(kind, name, options) if paper_exact else dict(options)


def _component_options(
    config: VideoBuildConfig, shard: ShardSpec
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The generator's and the tracker's options: the user's, with the authors' values under
    ``paper_exact`` and the rank's GPU for wan."""
    gen_options = _options(
        "generator", config.generator, config.generator_options, config.paper_exact
    )
    if shard.device_index is not None and _takes_device_index(config.generator):
        gen_options.setdefault("device_index", shard.device_index)
    return gen_options, _options(
        "tracker", config.tracker, config.tracker_options, config.paper_exact
    )


def _takes_device_index(generator: str) -> bool:
    """Whether the generator runs on a GPU chosen by index (the diffusers generators)."""
    from dsr.generation import GENERATORS
    from dsr.registry import option_names

    return "device_index" in option_names(GENERATORS.resolve(generator))


#: (generator, option) whose default changed after builds may have recorded the old one: a resumed
#: build that does not give the option keeps the value its record holds (never a silent mix).
CHANGED_DEFAULTS: dict[str, tuple[str, ...]] = {"wan": ("sampler", "flow_shift")}


def keep_recorded_defaults(config: VideoBuildConfig, folder: DatasetFolder) -> VideoBuildConfig:
    """``config`` with the recorded values of :data:`CHANGED_DEFAULTS` options that it leaves to
    their default, when ``config.split`` already holds samples of the same generator: a build begun
    with diffusers' UniPC (the old default) goes on with it instead of being refused or mixed."""
    keys = [
        k for k in CHANGED_DEFAULTS.get(config.generator, ()) if k not in config.generator_options
    ]
    if not keys or not (folder.root / WORK_DIR / VIDEOS_DIR / config.split).is_dir():
        return config  # nothing recorded (and nothing created here)
    work = WorkArea(folder)
    previous = work.build_record(config.split)
    recorded = ((previous or {}).get("settings") or {}).get("generator") or {}
    if (
        config.paper_exact
        or recorded.get("generator") != config.generator
        or not work.finished(config.split)
    ):
        return config
    recorded = {"sampler": "unipc", **recorded}  # records from before the sampler option: UniPC
    kept = {k: recorded[k] for k in keys if k in recorded}
    if kept:
        log.info(
            "resuming %s samples made with %s: keeping these recorded settings (give them "
            "explicitly to build into a fresh --out otherwise)",
            config.split,
            ", ".join(f"{k}={v!r}" for k, v in kept.items()),
        )
    return replace(config, generator_options={**config.generator_options, **kept})


def check_components(config: VideoBuildConfig, shard: ShardSpec) -> None:
    """Refuse the generator or tracker options that :func:`make_components` would refuse, without
    building either: nothing is claimed, written or loaded first."""
    from dsr.generation import GENERATORS
    from dsr.tracking import TRACKERS

    gen_options, tracker_options = _component_options(config, shard)
    GENERATORS.check(config.generator, gen_options)
    TRACKERS.check(config.tracker, tracker_options)


def make_components(config: VideoBuildConfig, shard: ShardSpec) -> tuple[Any, Any]:
    """The generator and tracker named in the config, built with their options (an unknown or
    mistyped option is a one-line ConfigError from the registry)."""
    from dsr.generation import GENERATORS
    from dsr.tracking import TRACKERS

    gen_options, tracker_options = _component_options(config, shard)
    return GENERATORS.create(config.generator, gen_options), TRACKERS.create(
        config.tracker, tracker_options
    )


def _settings(config: VideoBuildConfig, generator: Any, tracker: Any) -> dict[str, Any]:
    settings = {
        "split": config.split,
        "seeds": config.seed_list(),
        "generator": generator.settings(),
        "batch_size": config.batch_size,
        "tracker": tracker.settings(),
        "score": asdict(config.score),
        "encode": config.encode.to_dict(),
        "tau_train": config.tau_train,
        "prompts": config.prompts,
        "paper_exact": config.paper_exact,
    }
    return dict(json.loads(json.dumps(settings, sort_keys=True, default=str)))


#: The settings that decide how a sample comes out; a split's samples must all share them.
RECIPE_KEYS = ("generator", "tracker", "score", "encode")


def _record_build(
    work: WorkArea, config: VideoBuildConfig, settings: dict[str, Any], shard: ShardSpec
) -> None:
    """Check the split's recipe, then store its settings and command unless only the command (or
    the device) changed: a re-run of a finished build leaves the folder untouched."""
    previous = work.build_record(config.split)
    scored = previous is not None and previous.get("settings", {}).get("stage") == SCORED_STAGE
    if scored and work.finished(config.split):
        raise ConfigError(
            f"{work.folder.root} holds {config.split} samples scored from video files by "
            "score-videos: build into another --out (a fresh folder)"
        )
    work.check_recipe(config.split, settings, RECIPE_KEYS, besides=shard)
    if previous is None or without_device(previous.get("settings")) != without_device(settings):
        work.record_build(config.split, settings, config.command)


def build_videos(
    config: VideoBuildConfig,
    prompts: Sequence[Mapping[str, Any]] | None = None,
    generator: Any = None,
    tracker: Any = None,
) -> BuildResult:
    """Build this process's slice, then merge if every shard of the split is done."""
    shard = resolve_shard(config.num_shards, config.shard_index)
    records = (
        list(prompts) if prompts is not None else load_prompt_records(config.prompts, config.split)
    )
    records = work_order(records)[: config.limit]
    by_id = {str(r["prompt_id"]): r for r in records}
    if len(by_id) != len(records):
        raise ConfigError(
            "prompt ids are not unique in the prompts input: rebuild the prompts config"
        )
    config = keep_recorded_defaults(config, DatasetFolder(config.out))
    if generator is None or tracker is None:  # bad options fail before anything is written
        check_components(config, shard)
    folder = DatasetFolder(config.out)
    work = WorkArea(folder)
    # Batches of seeds must be formed the same way whatever the shard count (batched seeds can
    # differ from one-at-a-time by a pixel level), so batch_size > 1 shards whole prompts.
    mine = slice_items(
        [(pid, s) for pid in by_id for s in config.seed_list()],
        shard,
        whole_prompts=config.batch_size > 1,
        kind=lambda pid: str(by_id[pid].get("dsr_type") or ""),
    )
    with work.claim(
        config.split, shard
    ):  # before loading models: a refused second run costs nothing
        if generator is None or tracker is None:
            made = make_components(config, shard)
            generator, tracker = generator or made[0], tracker or made[1]
        with work.gate(config.split):
            _record_build(work, config, _settings(config, generator, tracker), shard)
        done = work.finished(config.split)
        todo = [item for item in mine if item not in done]
        result = BuildResult(shard, len(mine), len(mine) - len(todo), 0, 0, 0, out=folder.root)
        log.info(
            "shard %d/%d: %d samples, %d already finished",
            shard.index,
            shard.count,
            len(mine),
            result.skipped,
        )
        _run(config, shard, work, by_id, todo, generator, tracker, result)
        work.mark_done(config.split, shard)
        if config.consolidate and work.all_done(config.split, shard.count):
            result.merged = _merge(folder, config)
    return result


def _merge(folder: DatasetFolder, config: VideoBuildConfig) -> ConsolidateResult | None:
    """Merge the work area, unless another process is merging it right now: then that merge is
    left to finish (one that started after this shard was done includes its samples; otherwise
    ``--merge-only`` afterwards brings them in)."""
    try:
        return consolidate(
            folder,
            tau_train=config.tau_train,
            rows_per_shard=config.rows_per_shard,
            command=config.command,
            skip_if_unchanged=True,
        )
    except BusyError as exc:
        log.info("not merging: %s", exc)
        return None


def _progress(total: int, initial: int) -> Any:
    return progress_bar(total=total, initial=initial, unit="sample", desc="build-videos")


def _run(
    config: VideoBuildConfig,
    shard: ShardSpec,
    work: WorkArea,
    by_id: dict[str, Mapping[str, Any]],
    todo: list[tuple[str, int]],
    generator: Any,
    tracker: Any,
    result: BuildResult,
) -> None:
    bar = _progress(result.total, result.skipped)
    try:
        for pid, group in groupby(todo, key=lambda item: item[0]):
            seeds = [s for _, s in group]
            for start in range(0, len(seeds), config.batch_size):
                for row in _batch(
                    config, by_id[pid], seeds[start : start + config.batch_size], generator, tracker
                ):
                    work.commit(config.split, shard, row)
                    result.built += 1
                    result.valid += bool(row["valid"])
                    result.correct_07 += bool(row["valid"]) and row["dsr_score"] >= 0.7
                    bar.set_postfix(
                        valid=f"{result.valid / result.built:.2f}",
                        correct07=f"{result.correct_07 / result.built:.2f}",
                        refresh=False,  # update() redraws
                    )
                    bar.update(1)
    finally:
        bar.close()


def _batch(
    config: VideoBuildConfig,
    record: Mapping[str, Any],
    seeds: list[int],
    generator: Any,
    tracker: Any,
) -> list[dict[str, Any]]:
    common = {
        "split": config.split,
        "generator": generator.name,
        "encode": config.encode,
        "score": config.score,
    }
    try:
        prompt = parse_prompt(str(record.get("prompt") or ""))
    except PromptParseError:  # build_sample records the reason
        return [
            build_sample(
                record, s, None, tracker, generator_settings=generator.settings(), **common
            )
            for s in seeds
        ]
    try:
        videos = generator.generate(prompt, seeds)
    except (ConfigError, ModelLoadError):
        raise  # a setup problem, not this sample's: stop before recording anything as finished
    except DsrError as exc:
        log.warning("generation failed for %s seeds %s: %s", record.get("prompt_id"), seeds, exc)
        rows = [
            build_sample(
                record, s, None, tracker, generator_settings=generator.settings(), **common
            )
            for s in seeds
        ]
        return [invalid_sample(r, GENERATION_FAILED, f"{type(exc).__name__}: {exc}") for r in rows]
    return [
        build_sample(record, s, v, tracker, **common) for s, v in zip(seeds, videos, strict=True)
    ]
