"""``dsr build-videos``: seeded samples → tracks, validity, DSR-Score → `samples` and `pairs`.

The options are generated from :class:`~dsr.builders.videos.VideoBuildConfig` (and the ``crf`` of
its :class:`~dsr.media.EncodeConfig`); the tracker's from the trackers' configs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from dsr.builders.videos import VideoBuildConfig
from dsr.cli._dataclass_options import OptionStyle, dataclass_options, field_kwargs
from dsr.cli._options import (
    deviation_line,
    preflight_push_options,
    push_from_options,
    push_options,
    tracker_kwargs,
    tracker_options,
)
from dsr.media import EncodeConfig
from dsr.tracking import TRACKERS


def _seeds(text: str) -> tuple[int, ...]:
    """'0,1,5' or '0-9' (inclusive) or a mix; more seeds than the limit are refused before the
    list is built."""
    from dsr.limits import MAX_SEEDS_PER_PROMPT, check_max

    try:
        spans = []
        for part in text.split(","):
            lo, dash, hi = part.strip().partition("-")
            spans.append(range(int(lo), int(hi) + 1) if dash else range(int(lo), int(lo) + 1))
    except ValueError:
        raise click.BadParameter(f"{text!r}: use e.g. 0-9 or 0,2,4") from None
    for span in spans:
        if not span:
            raise click.BadParameter(
                f"{text!r}: the range {span.start}-{span.stop - 1} is reversed: write it low-high, "
                f"e.g. {span.stop - 1}-{span.start}"
            )
    check_max(
        "--seeds count", sum(len(s) for s in spans), MAX_SEEDS_PER_PROMPT, "the paper uses 10 / 5"
    )
    return tuple(seed for span in spans for seed in span)


_STYLE = OptionStyle(
    names={"generator_options": "--generator-opt", "consolidate": "--merge/--no-merge"},
    types={"out": click.Path(file_okay=False)},
    parsers={"seeds": _seeds},
)
_ENCODE = OptionStyle(dest_prefix="encode_")


@click.command("build-videos")
@dataclass_options(
    VideoBuildConfig,
    only=("prompts", "out", "split", "generator", "generator_options"),
    style=_STYLE,
)
@tracker_options(TRACKERS.names())
@dataclass_options(
    VideoBuildConfig,
    only=(
        "paper_exact",
        "samples_per_prompt",
        "seeds",
        "limit",
        "batch_size",
        "num_shards",
        "shard_index",
        "tau_train",
    ),
    style=_STYLE,
)
@dataclass_options(EncodeConfig, only=("crf",), style=_ENCODE)
@dataclass_options(VideoBuildConfig, only=("rows_per_shard", "consolidate"), style=_STYLE)
@click.option(
    "--merge-only", is_flag=True, help="Only merge the finished samples already in the work area."
)
@push_options()
def build_videos(**kw: Any) -> None:
    """Generate, track and score videos for every prompt and seed (resumable, sharded)."""
    from dsr.builders.consolidate import ConsolidateResult, consolidate
    from dsr.builders.folder import DatasetFolder
    from dsr.builders.videos import build_videos
    from dsr.cards import sanitize_command
    from dsr.fileio import check_output_dir

    command = sanitize_command(["dsr", *sys.argv[1:]])
    config = VideoBuildConfig(
        **field_kwargs(VideoBuildConfig, kw),
        tracker_options=tracker_kwargs(kw),
        encode=EncodeConfig(**field_kwargs(EncodeConfig, kw, dest_prefix=_ENCODE.dest_prefix)),
        command=command,
    )
    check_output_dir(config.out)
    if not kw["merge_only"]:
        _check_tracker_fits(config)
    preflight_push_options(kw, need_version=True)  # before hours of generation, not after them
    folder = DatasetFolder(config.out)
    merged: ConsolidateResult | None
    if kw["merge_only"]:
        _check_something_to_merge(folder.root)
        merged = consolidate(
            folder,
            tau_train=config.tau_train,
            rows_per_shard=config.rows_per_shard,
            command=command,
        )
    else:
        result = build_videos(config)
        click.echo(
            f"shard {result.shard.index}/{result.shard.count}: {result.built} built, "
            f"{result.skipped} already done"
            + (
                f", valid {result.valid / result.built:.3f}, Correct@0.7 "
                f"{result.correct_07 / result.built:.3f}"
                if result.built
                else ""
            )
        )
        merged = result.merged
        if merged is None:
            click.echo(
                "not merged yet: other shards are still running, another process is merging, or "
                "--no-merge; merge with --merge-only"
            )
    if merged is not None:
        _summary(merged, folder.root)
        if kw["push_repo"]:
            push_from_options(kw, folder.root)


def _check_tracker_fits(config: VideoBuildConfig) -> None:
    """Refuse ``--tracker annotations`` with a generator that writes no annotations (its class has
    no true ``writes_annotations``): every sample would come out invalid (``no_annotations``) after
    the whole generation."""
    from dsr.errors import ConfigError
    from dsr.generation import GENERATORS

    if config.tracker != "annotations" or config.generator not in GENERATORS.names():
        return  # an unknown generator is refused by its registry
    if not getattr(GENERATORS.resolve(config.generator), "writes_annotations", False):
        raise ConfigError(
            "--tracker annotations reads the ground truth that only generators such as "
            f"synthetic write; {config.generator!r} videos have none, so every sample would be "
            "invalid: use --tracker grounded-sam2 or sam3"
        )


def _check_something_to_merge(root: Path) -> None:
    """Refuse ``--merge-only`` where no finished sample lies in the work area (nothing created)."""
    from dsr.builders.work import VIDEOS_DIR
    from dsr.errors import ConfigError
    from dsr.layout import WORK_DIR

    if not any((root / WORK_DIR / VIDEOS_DIR).glob("*/shard-*-of-*/[!.]*.json")):
        raise ConfigError(
            f"--merge-only: {root} holds no finished samples to merge (its work area "
            f"{WORK_DIR}/{VIDEOS_DIR} has none): build them first with build-videos, or give the "
            "--out of that build"
        )


def _summary(merged: Any, root: Path) -> None:
    for split, curve in merged.curves.items():
        click.echo(
            f"[{split}] samples {merged.samples.get(split, 0)}, invalid {curve.n_invalid}, "
            f"Correct@0.7 {curve.at(0.7):.3f}"
        )
        click.echo(
            "  validity: "
            + ", ".join(f"{k}={v}" for k, v in merged.validity.get(split, {}).items())
        )
        click.echo(
            "  pairs: " + ", ".join(f"{k}={v}" for k, v in merged.pairs.get(split, {}).items())
        )
        click.echo("  " + deviation_line(merged.deviations.get(split, {})))
        click.echo("  " + curve.table().replace("\n", "\n  "))
    click.echo(f"dataset folder: {root}")
