"""``dsr audit-tracker``: compare a real tracker with the ground truth of synthetic videos.

The options are generated from :class:`~dsr.tracking.audit.AuditConfig` (``--size`` joins its
height and width); the tracker's from the trackers' configs.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import click

from dsr.cli._dataclass_options import OptionStyle, dataclass_options, field_default, field_kwargs
from dsr.cli._options import tracker_kwargs, tracker_options
from dsr.tracking.audit import AuditConfig

#: The trackers an audit compares with the synthetic ground truth (``annotations`` *is* that truth).
AUDITED_TRACKERS = ("grounded-sam2", "sam3")
DEFAULT_SIZE = f"{field_default(AuditConfig, 'height')}x{field_default(AuditConfig, 'width')}"


def _tiny_models(kind: str, root: Path) -> dict[str, str]:
    from dsr.tracking.tiny import (
        save_tiny_depth_anything,
        save_tiny_grounding_dino,
        save_tiny_sam2_video,
        save_tiny_sam3_video,
    )

    if kind == "sam3":
        return {"model": str(save_tiny_sam3_video(root / "sam3"))}
    return {
        "detector": str(save_tiny_grounding_dino(root / "gd")),
        "sam2": str(save_tiny_sam2_video(root / "sam2")),
        "depth_model": str(save_tiny_depth_anything(root / "depth")),
    }


def _size(text: str) -> tuple[int, int]:
    from dsr.errors import ConfigError

    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--size {text!r}: use HEIGHTxWIDTH, e.g. 64x96") from None
    return height, width


@click.command("audit-tracker")
@tracker_options(AUDITED_TRACKERS)
@dataclass_options(AuditConfig, only=("paper_exact",))
@click.option(
    "--tiny",
    is_flag=True,
    help="Build tiny random models in a temporary folder (a dry run on CPU).",
)
@dataclass_options(
    AuditConfig, only=("seeds", "num_frames"), style=OptionStyle(names={"num_frames": "--frames"})
)
@click.option("--size", default=DEFAULT_SIZE, show_default=True, help="HEIGHTxWIDTH of the videos.")
@dataclass_options(AuditConfig, only=("scenario", "new_relations"))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("tracker_audit.json"),
    show_default=True,
    help="JSON report.",
)
def audit_tracker(**kw: Any) -> None:
    """Run a tracker on synthetic videos and report box IoU, validity agreement and score error."""
    from dsr.fileio import check_output_file
    from dsr.layout import atomic_write_text
    from dsr.paper_exact import paper_exact_options
    from dsr.tracking import TRACKERS
    from dsr.tracking.audit import audit_tracker

    check_output_file(kw["out"])
    height, width = _size(kw["size"])
    options = tracker_kwargs(kw)
    if kw["paper_exact"]:
        options = paper_exact_options("tracker", kw["tracker"], options)
    given = field_kwargs(AuditConfig, kw)
    frames = given.get("num_frames", field_default(AuditConfig, "num_frames"))
    min_frames = min(field_default(AuditConfig, "min_frames"), frames)
    config = AuditConfig(**given, height=height, width=width, min_frames=min_frames)
    with tempfile.TemporaryDirectory(prefix="dsr-tiny-") as tmp:
        if kw["tiny"]:
            options.update(_tiny_models(kw["tracker"], Path(tmp)))
        report = audit_tracker(TRACKERS.create(kw["tracker"], options), config)
    atomic_write_text(kw["out"], json.dumps(report.to_dict(), indent=2, default=str) + "\n")
    click.echo(report.table())
    click.echo(f"report -> {kw['out']}")
