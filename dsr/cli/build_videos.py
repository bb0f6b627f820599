"""``dsr build-videos``: seeded samples → tracks, validity, DSR-Score → `samples` and `pairs`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from dsr.cli._options import (
    deviation_line,
    paper_exact_option,
    parse_key_values,
    preflight_push_options,
    push_from_options,
    push_options,
    tracker_kwargs,
    tracker_options,
)


def _seeds(text: str | None) -> tuple[int, ...] | None:
    """'0,1,5' or '0-9' (inclusive) or a mix; more seeds than the limit are refused before the
    list is built."""
    from dsr.limits import MAX_SEEDS_PER_PROMPT, check_max

    if not text:
        return None
    try:
        spans = []
        for part in text.split(","):
            lo, dash, hi = part.strip().partition("-")
            spans.append(range(int(lo), int(hi) + 1) if dash else range(int(lo), int(lo) + 1))
    except ValueError:
        raise click.BadParameter(f"{text!r}: use e.g. 0-9 or 0,2,4") from None
    check_max("--seeds count", sum(len(s) for s in spans), MAX_SEEDS_PER_PROMPT, "the paper uses 10 / 5")
    return tuple(seed for span in spans for seed in span)


@click.command("build-videos")
@click.option("--prompts", required=True, help="Dataset folder or Hub repo id with a `prompts` config.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Dataset folder to add `samples` and `pairs` to.")
@click.option("--split", default="train", show_default=True, type=click.Choice(["train", "test"]))
@click.option("--generator", default="wan", show_default=True, help="Generator: wan or synthetic.")
@click.option("--generator-opt", "generator_opts", multiple=True, metavar="KEY=VALUE", help="Generator option, e.g. num_inference_steps=30 (repeatable).")
@tracker_options("grounded-sam2", ("grounded-sam2", "sam3", "annotations"))
@paper_exact_option
@click.option("--samples-per-prompt", type=int, help="Seeds 0..N-1 per prompt [default: 10 train, 5 test].")
@click.option("--seeds", help="Explicit seeds, e.g. 0-9 or 0,3,7.")
@click.option("--limit", type=int, help="Only the first N prompts (DSR types interleaved: LT, TL, RT, LR, TR, RL, LT, ...).")
@click.option("--batch-size", default=1, show_default=True, help="Seeds of one prompt per generator call.")
@click.option("--num-shards", type=int, help="Shards in all [default: WORLD_SIZE or 1].")
@click.option("--shard-index", type=int, help="This shard [default: RANK or 0].")
@click.option("--tau-train", default=0.7, show_default=True, help="Winner/loser threshold of the pairs.")
@click.option("--crf", default=18, show_default=True, help="x264 quality of the stored mp4 (lower is better).")
@click.option("--rows-per-shard", default=200, show_default=True, help="Rows per parquet file of `samples`.")
@click.option("--merge/--no-merge", default=True, show_default=True, help="Merge into configs once every shard is done.")
@click.option("--merge-only", is_flag=True, help="Only merge the finished samples already in the work area.")
@push_options()
def build_videos(**kw: Any) -> None:
    """Generate, track and score videos for every prompt and seed (resumable, sharded)."""
    from dsr.builders.consolidate import consolidate
    from dsr.builders.folder import DatasetFolder
    from dsr.builders.videos import VideoBuildConfig, build_videos
    from dsr.cards import sanitize_command
    from dsr.fileio import check_output_dir
    from dsr.media import EncodeConfig

    command = sanitize_command(["dsr", *sys.argv[1:]])
    config = VideoBuildConfig(
        prompts=kw["prompts"], out=str(kw["out"]), split=kw["split"], generator=kw["generator"],
        generator_options=parse_key_values(kw["generator_opts"]), tracker=kw["tracker"],
        tracker_options=tracker_kwargs(kw), seeds=_seeds(kw["seeds"]),
        samples_per_prompt=kw["samples_per_prompt"], limit=kw["limit"], batch_size=kw["batch_size"],
        num_shards=kw["num_shards"], shard_index=kw["shard_index"], tau_train=kw["tau_train"],
        encode=EncodeConfig(crf=kw["crf"]), rows_per_shard=kw["rows_per_shard"], consolidate=kw["merge"],
        paper_exact=kw["paper_exact"], command=command,
    )
    check_output_dir(config.out)
    preflight_push_options(kw, need_version=True)  # before hours of generation, not after them
    folder = DatasetFolder(config.out)
    if kw["merge_only"]:
        merged = consolidate(folder, tau_train=config.tau_train, rows_per_shard=config.rows_per_shard, command=command)
    else:
        result = build_videos(config)
        click.echo(f"shard {result.shard.index}/{result.shard.count}: {result.built} built, {result.skipped} already done"
                   + (f", valid {result.valid / result.built:.3f}, Correct@0.7 {result.correct_07 / result.built:.3f}" if result.built else ""))
        merged = result.merged
        if merged is None:
            click.echo("not merged yet: other shards are still running, another process is merging, or --no-merge; "
                       "merge with --merge-only")
    if merged is not None:
        _summary(merged, folder.root)
        if kw["push_repo"]:
            push_from_options(kw, folder.root)


def _summary(merged: Any, root: Path) -> None:
    for split, curve in merged.curves.items():
        click.echo(f"[{split}] samples {merged.samples.get(split, 0)}, invalid {curve.n_invalid}, Correct@0.7 {curve.at(0.7):.3f}")
        click.echo("  validity: " + ", ".join(f"{k}={v}" for k, v in merged.validity.get(split, {}).items()))
        click.echo("  pairs: " + ", ".join(f"{k}={v}" for k, v in merged.pairs.get(split, {}).items()))
        click.echo("  " + deviation_line(merged.deviations.get(split, {})))
        click.echo("  " + curve.table().replace("\n", "\n  "))
    click.echo(f"dataset folder: {root}")
