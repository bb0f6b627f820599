"""``dsr score``: DSR-Scores and the correctness curve of per-sample tracks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dsr.cli._dataclass_options import dataclass_options, field_kwargs
from dsr.scoring.dsr_score import ScoreConfig
from dsr.scoring.tracks import DEFAULT_MAX_ERRORS

if TYPE_CHECKING:
    from dsr.scoring.tracks import ScoreReport


@click.command()
@click.argument("tracks", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Per-sample scores (.jsonl, .parquet or .csv). Default: <tracks>.scores.jsonl",
)
@click.option(
    "--plot",
    "plot_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write correctness.png and one SSR-curve PNG per sample here.",
)
@dataclass_options(ScoreConfig)
@click.option(
    "--max-errors",
    default=DEFAULT_MAX_ERRORS,
    show_default=True,
    type=click.IntRange(min=0),
    help=(
        "Malformed rows tolerated; past that the input is refused with a summary and "
        "nothing is written."
    ),
)
def score(
    tracks: Path, out: Path | None, plot_dir: Path | None, max_errors: int, **kw: Any
) -> None:
    """Score per-sample TRACKS (parquet or JSONL; one row per sample).

    A row of a type with front or behind also needs the per-frame lists animal_depth and
    object_depth (and optionally occlusion); a three-stage row names its middle relation in
    middle or in its prompt (docs/method.md §8). Malformed rows are reported (row number and
    field) and skipped; the other rows are scored, and the exit code is then 2.
    """
    from dsr.errors import DataError
    from dsr.fileio import check_output_dir, check_output_file
    from dsr.scoring.tracks import check_output_suffix, read_tracks, score_rows

    out = check_output_file(
        check_output_suffix(out or tracks.with_name(tracks.stem + ".scores.jsonl"))
    )
    _check_not_input(tracks, out)
    if plot_dir:
        check_output_dir(plot_dir, "--plot")
    settings = ScoreConfig(**field_kwargs(ScoreConfig, kw))
    report = score_rows(
        read_tracks(tracks),
        m=settings.m,
        min_frames=settings.min_frames,
        max_errors=max_errors,
        box_check=settings.box_check,
    )
    if not report.rows and not report.errors:
        raise DataError(
            f"{tracks} holds no rows: give a parquet or JSONL file with one row per sample "
            "(animal_boxes, object_boxes, and initial/final or prompt)"
        )
    _write(report, out)
    click.echo(f"scored {len(report.rows)} samples ({report.curve.n_invalid} invalid) -> {out}")
    frames, samples = report.degenerate()
    if frames:
        click.echo(
            f"{frames} frames in {samples} samples had a box with zero or negative width or "
            "height: left out like absent boxes (n_degenerate_frames per row)"
        )
    click.echo(report.curve.table())
    if plot_dir:
        _plot(report, plot_dir)
        click.echo(f"plots -> {plot_dir}")
    for err in report.errors:
        click.echo(f"Error: {err}", err=True)
    if report.errors:
        raise SystemExit(2)


def _check_not_input(tracks: Path, out: Path) -> None:
    """Refuse an output that is the input, or its correctness file (the same file after links)."""
    from dsr.errors import ConfigError

    for target in (out, out.with_name(out.stem + ".correctness.json")):
        if target.exists() and target.samefile(tracks):
            raise ConfigError(
                f"--out {out} would overwrite the input {tracks}: give another file name"
            )


def _write(report: ScoreReport, out: Path) -> None:
    """The scores and their correctness curve, both or neither."""
    from dsr.layout import atomic_write_text
    from dsr.scoring.tracks import write_rows

    write_rows(report.rows, out)
    try:
        atomic_write_text(
            out.with_name(out.stem + ".correctness.json"),
            json.dumps(report.curve.to_dict(), indent=2) + "\n",
        )
    except BaseException:
        out.unlink(missing_ok=True)
        raise


def _plot(report: ScoreReport, plot_dir: Path) -> None:
    from dsr.scoring import plot_correctness, plot_ssr_curves

    plot_correctness(report.curve, plot_dir / "correctness.png")
    for i, row in enumerate(report.rows):
        name = str(row["sample_id"]) if row.get("sample_id") is not None else f"sample{i:05d}"
        safe = re.sub(r"[^\w.-]+", "_", name)  # sample ids may hold '/' or spaces
        plot_ssr_curves(
            row["ssr_initial"],
            row["ssr_final"],
            plot_dir / f"ssr_{safe}.png",
            initial=row["initial"],
            final=row["final"],
            title=name,
            prompt=row.get("prompt") or "",
            key_frame=row.get("key_frame"),
        )
