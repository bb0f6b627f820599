"""``dsr report``: a static, offline HTML report of a dataset folder or Hub dataset."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from dsr.cli._dataclass_options import dataclass_options, field_kwargs
from dsr.report.config import ReportConfig


@click.command("report")
@click.argument("source")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=(
        "Folder to write the report into (created; open its index.html). A re-run writes "
        "only what changed."
    ),
)
# --split and --eval name fields whose CLI form differs (a repeatable option, a checked path)
@click.option(
    "--split", "splits", multiple=True, help="Split to include (repeatable)  [default: all]"
)
@click.option(
    "--eval",
    "eval_results",
    type=click.Path(exists=True, path_type=Path),
    help="eval_results.json (or its folder) to show  [default: the dataset folder's own]",
)
@dataclass_options(ReportConfig, exclude=("source", "out", "splits", "eval_results"))
@click.option(
    "--strict",
    is_flag=True,
    help="Exit with code 1 when a problem with the input was met (the report is still written).",
)
def report(**kw: Any) -> None:
    """Write an HTML report of SOURCE (a dataset folder, or a Hub dataset repo
    namespace/name[@revision]).

    It opens from file:// with no server and no network: overview, filterable gallery, one page per
    sample (video with its boxes, SSR curves, frame classes, detections) and one per pair.
    """
    from dsr.fileio import check_output_dir
    from dsr.report import build_report

    check_output_dir(kw["out"])
    options = field_kwargs(
        ReportConfig,
        {k: v for k, v in kw.items() if k not in ("source", "out", "splits", "eval_results")},
    )
    config = ReportConfig(
        source=kw["source"],
        out=str(kw["out"]),
        splits=tuple(kw["splits"]),
        eval_results=str(kw["eval_results"]) if kw["eval_results"] else None,
        **options,
    )
    result = build_report(config)
    for problem in result.problems:
        click.echo(f"Warning: {problem}", err=True)
    v = result.videos
    click.echo(
        f"{result.samples} samples, {result.pairs} pairs; wrote {len(result.written)} files "
        f"({v.written} videos copied, {v.linked} linked), {result.unchanged} unchanged, "
        f"{len(result.removed)} removed"
    )
    click.echo(str(result.index))
    if kw["strict"] and result.problems:
        sys.exit(1)
