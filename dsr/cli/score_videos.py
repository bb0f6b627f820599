"""``dsr score-videos``: score any model's videos against a prompts dataset → `samples` and `pairs`.

The options are generated from :class:`~dsr.builders.score_videos.ScoreVideosConfig`; the
tracker's from the trackers' configs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from dsr.builders.score_videos import ScoreVideosConfig
from dsr.cli._dataclass_options import OptionStyle, dataclass_options, field_kwargs
from dsr.cli._options import (
    deviation_line,
    preflight_push_options,
    push_from_options,
    push_options,
    tracker_kwargs,
    tracker_options,
)
from dsr.tracking import TRACKERS

_STYLE = OptionStyle(
    names={"splits": "--split"},
    types={"out": click.Path(file_okay=False), "mapping": click.Path(exists=True, dir_okay=False)},
)


@click.command("score-videos")
@click.argument("videos", type=click.Path(exists=True, file_okay=False))
@dataclass_options(
    ScoreVideosConfig, only=("prompts", "out", "mapping", "splits", "model_name"), style=_STYLE
)
@tracker_options(TRACKERS.names())
@dataclass_options(ScoreVideosConfig, only=("paper_exact", "tau_train"), style=_STYLE)
@push_options()
def score_videos(**kw: Any) -> None:
    """Track and score the mp4 files in VIDEOS (named <prompt_id>[_F81]_seed<NN>.mp4 or mapped)."""
    from dsr.builders.score_videos import score_videos
    from dsr.cards import sanitize_command
    from dsr.fileio import check_output_dir

    check_output_dir(kw["out"])
    config = ScoreVideosConfig(
        **field_kwargs(ScoreVideosConfig, kw),
        tracker_options=tracker_kwargs(kw),
        command=sanitize_command(["dsr", *sys.argv[1:]]),
    )
    preflight_push_options(kw, need_version=True)  # before tracking every video, not after
    result = score_videos(config)
    counts = result.matching.counts()
    click.echo(
        f"matched {counts['matched_videos']} videos; {counts['unmatched_files']} unmatched files; "
        f"{counts['prompts_without_videos']} prompts without videos"
    )
    for name, why in sorted(result.matching.unmatched_files.items()):
        click.echo(f"  unmatched: {name} ({why})")
    redone = (
        f" (of which {result.redone} again: their video, prompt or settings changed)"
        if result.redone
        else ""
    )
    click.echo(
        f"scored {result.built} new{redone}, {result.skipped} already done, {result.valid} valid "
        f"-> {result.out}"
    )
    if result.merged:
        for split, curve in result.merged.curves.items():
            click.echo(
                f"{split}: Correct@0.7 = {curve.at(0.7):.3f}; "
                + deviation_line(result.merged.deviations.get(split, {}))
            )
        if kw["push_repo"]:
            push_from_options(kw, Path(config.out))
