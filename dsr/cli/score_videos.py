"""``dsr score-videos``: score any model's videos against a prompts dataset → `samples` and `pairs`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from dsr.cli._options import (
    deviation_line,
    paper_exact_option,
    preflight_push_options,
    push_from_options,
    push_options,
    tracker_kwargs,
    tracker_options,
)


@click.command("score-videos")
@click.argument("videos", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--prompts", required=True, help="Dataset folder or Hub repo id with a `prompts` config.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Dataset folder to add `samples` and `pairs` to.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="CSV/JSON with file,prompt_id,seed (instead of matching file names).")
@click.option("--split", "splits", multiple=True, default=("train", "test"), show_default=True, help="Prompt splits to match (repeatable).")
@click.option("--model-name", default="file", show_default=True, help="Name of the model that made the videos (stored per sample).")
@tracker_options("grounded-sam2", ("grounded-sam2", "sam3", "annotations"))
@paper_exact_option
@click.option("--tau-train", default=0.7, show_default=True, help="Winner/loser threshold of the pairs.")
@push_options()
def score_videos(**kw: Any) -> None:
    """Track and score the mp4 files in VIDEOS (named <prompt_id>[_F81]_seed<NN>.mp4 or mapped)."""
    from dsr.builders.score_videos import ScoreVideosConfig, score_videos
    from dsr.cards import sanitize_command
    from dsr.fileio import check_output_dir

    check_output_dir(kw["out"])
    config = ScoreVideosConfig(
        videos=str(kw["videos"]), prompts=kw["prompts"], out=str(kw["out"]), splits=tuple(kw["splits"]),
        mapping=str(kw["mapping"]) if kw["mapping"] else None, tracker=kw["tracker"],
        tracker_options=tracker_kwargs(kw), model_name=kw["model_name"], tau_train=kw["tau_train"],
        paper_exact=kw["paper_exact"], command=sanitize_command(["dsr", *sys.argv[1:]]),
    )
    preflight_push_options(kw, need_version=True)  # before tracking every video, not after
    result = score_videos(config)
    counts = result.matching.counts()
    click.echo(f"matched {counts['matched_videos']} videos; {counts['unmatched_files']} unmatched files; "
               f"{counts['prompts_without_videos']} prompts without videos")
    for name, why in sorted(result.matching.unmatched_files.items()):
        click.echo(f"  unmatched: {name} ({why})")
    redone = f" (of which {result.redone} again: their video, prompt or settings changed)" if result.redone else ""
    click.echo(f"scored {result.built} new{redone}, {result.skipped} already done, {result.valid} valid -> {result.out}")
    if result.merged:
        for split, curve in result.merged.curves.items():
            click.echo(f"{split}: Correct@0.7 = {curve.at(0.7):.3f}; "
                       + deviation_line(result.merged.deviations.get(split, {})))
        if kw["push_repo"]:
            push_from_options(kw, Path(config.out))
