"""``dsr audit-tracker``: compare a real tracker with the ground truth of synthetic videos."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import click

from dsr.cli._options import paper_exact_option, tracker_kwargs, tracker_options


def _tiny_models(kind: str, root: Path) -> dict[str, str]:
    from dsr.tracking.tiny import (
        save_tiny_grounding_dino,
        save_tiny_sam2_video,
        save_tiny_sam3_video,
    )

    if kind == "sam3":
        return {"model": str(save_tiny_sam3_video(root / "sam3"))}
    return {"detector": str(save_tiny_grounding_dino(root / "gd")), "sam2": str(save_tiny_sam2_video(root / "sam2"))}


@click.command("audit-tracker")
@tracker_options("grounded-sam2", ("grounded-sam2", "sam3"))
@paper_exact_option
@click.option("--tiny", is_flag=True, help="Build tiny random models in a temporary folder (a dry run on CPU).")
@click.option("--seeds", default=2, show_default=True, help="Synthetic videos per DSR type.")
@click.option("--frames", "num_frames", default=24, show_default=True, help="Frames per video.")
@click.option("--size", default="64x96", show_default=True, help="HEIGHTxWIDTH of the videos.")
@click.option("--scenario", help="Force one synthetic scenario (default: mixed).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("tracker_audit.json"), show_default=True, help="JSON report.")
def audit_tracker(**kw: Any) -> None:
    """Run a tracker on synthetic videos and report box IoU, validity agreement and score error."""
    from dsr.errors import ConfigError
    from dsr.fileio import check_output_file
    from dsr.layout import atomic_write_text
    from dsr.paper_exact import paper_exact_options
    from dsr.tracking import TRACKERS
    from dsr.tracking.audit import AuditConfig, audit_tracker

    check_output_file(kw["out"])
    try:
        height, width = (int(v) for v in kw["size"].lower().split("x"))
    except ValueError:
        raise ConfigError(f"--size {kw['size']!r}: use HEIGHTxWIDTH, e.g. 64x96") from None
    options = tracker_kwargs(kw)
    if kw["paper_exact"]:
        options = paper_exact_options("tracker", kw["tracker"], options)
    min_frames = min(20, kw["num_frames"])
    config = AuditConfig(seeds=kw["seeds"], num_frames=kw["num_frames"], height=height, width=width,
                         scenario=kw["scenario"], min_frames=min_frames, paper_exact=kw["paper_exact"])
    with tempfile.TemporaryDirectory(prefix="dsr-tiny-") as tmp:
        if kw["tiny"]:
            options.update(_tiny_models(kw["tracker"], Path(tmp)))
        report = audit_tracker(TRACKERS.create(kw["tracker"], options), config)
    atomic_write_text(kw["out"], json.dumps(report.to_dict(), indent=2, default=str) + "\n")
    click.echo(report.table())
    click.echo(f"report -> {kw['out']}")
