"""The authors' behaviour one switch away: the ``--paper-exact`` preset, and the one list of where
dsr differs from the authors' released code.

:data:`DEVIATION_ROWS` is that list, one :class:`DeviationRow` per difference: what it is, our
value, the authors', the switch that restores theirs, and the option values the preset applies to
each component. Everything else is derived from it:

- :func:`paper_exact_options` merges the preset's values into the user's options of a component
  (a tracker, a generator, the DSR-Score settings), refusing a clash;
- :data:`PAPER_EXACT` is the per-component view of the same values;
- :func:`deviation_table` renders the README's table "Where dsr differs from the authors' code";
  ``python -m dsr.paper_exact README.md`` rewrites it between its marker comments.

Adding a difference is adding one row. A row whose effect shows in single samples names a
``rule``: the per-sample ``deviations`` column, the build summary and ``dsr audit-tracker`` list the
samples it changed.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from dsr.errors import ConfigError

__all__ = [
    "DEVIATION_ROWS",
    "NOT_THE_AUTHORS",
    "PAPER_EXACT",
    "RULES",
    "TABLE_BEGIN",
    "TABLE_END",
    "TRACKER_PRESET_HELP",
    "DeviationRow",
    "deviation_table",
    "paper_exact_config",
    "paper_exact_options",
    "preset_help",
    "rewrite_table",
]

#: A component as the preset addresses it: (kind, name), e.g. ("tracker", "grounded-sam2").
Component = tuple[str, str]


@dataclass(frozen=True)
class DeviationRow:
    """One place where dsr's default differs from the authors' code, and how to get theirs.

    ``preset`` maps each component to the option values that give the authors' behaviour (what
    ``--paper-exact`` applies); ``preset_from_files`` replaces some of them when the frames are
    read from existing video files (``score-videos``) rather than generated. ``rule`` is the name
    a sample's ``deviations`` column uses for it (None when single samples cannot show it).
    """

    component: str
    what: str
    authors: str
    ours: str
    switch: str
    preset: Mapping[Component, Mapping[str, Any]] = field(default_factory=dict)
    preset_from_files: Mapping[Component, Mapping[str, Any]] = field(default_factory=dict)
    rule: str | None = None
    rule_help: str = ""


_GROUNDED = ("tracker", "grounded-sam2")
_SCORE = ("score", "dsr-score")
_TRAINING = ("training", "spatialalign")
_EVAL = ("evaluation", "dsr-eval")

#: Every difference between dsr's defaults and the authors' released scripts (README table).
DEVIATION_ROWS: tuple[DeviationRow, ...] = (
    DeviationRow(
        component="tracking",
        what="detector labels",
        authors="compared as returned: `sorted(labels) == sorted([animal, object])`",
        ours="matched after case, plural and head-noun normalization",
        switch="`--tracker-opt label_match=exact`",
        preset={
            _GROUNDED: {"label_match": "exact"},
            ("tracker", "annotations"): {"label_match": "exact"},
        },
        rule="label_match",
        rule_help="detector labels matched after normalization changed frame classes "
        "(the authors compare the strings exactly; label_match=exact)",
    ),
    DeviationRow(
        component="tracking",
        what="a mask that suddenly fills the frame",
        authors="kept as the object's box",
        ours="dropped as a lost track (`lost_track_fraction=0.9`)",
        switch="`--tracker-opt lost_track_fraction=1.0`",
        preset={_GROUNDED: {"lost_track_fraction": 1.0}},
        rule="lost_track",
        rule_help="frame-filling masks dropped as lost tracks changed boxes "
        "(the authors keep every box; lost_track_fraction=1.0)",
    ),
    DeviationRow(
        component="tracking",
        what="what Grounding DINO and SAM2 see",
        authors="the stored mp4 (imageio `quality=5`: libx264 crf 25, yuv420p), decoded and "
        "written as JPEG files (OpenCV's quality 95, 4:2:0), read back",
        ours="the generated frames (or the given video's decoded frames) as they are",
        switch="`--tracker-opt input_frames=mp4-jpeg` (`jpeg` for frames read from video files)",
        preset={_GROUNDED: {"input_frames": "mp4-jpeg"}},
        preset_from_files={_GROUNDED: {"input_frames": "jpeg"}},
        rule="input_frames",
        rule_help="the detector and SAM2 saw the frames as they are, not the authors' "
        "mp4-then-JPEG frames (input_frames=mp4-jpeg); listed for every tracked sample",
    ),
    DeviationRow(
        component="tracking",
        what="precision of Grounding DINO and SAM2",
        authors="the whole script under `torch.autocast('cuda', dtype=torch.bfloat16)`",
        ours="the model dtype (float32), no autocast",
        switch="`--tracker-opt autocast=bfloat16` (on CUDA; the CPU is unaffected, as theirs)",
        preset={_GROUNDED: {"autocast": "bfloat16"}},
        rule="autocast",
        rule_help="detection and tracking ran on CUDA without the authors' bf16 autocast "
        "(autocast=bfloat16); listed for every sample tracked on CUDA",
    ),
    DeviationRow(
        component="tracking",
        what="SAM2 propagation forward, then backward from the key frame",
        authors="a fresh inference state per direction (backward wins at the key frame)",
        ours="one state: frames before the key frame can draw memory from forward-tracked frames",
        switch="`--tracker-opt sam2_state=fresh`",
        preset={_GROUNDED: {"sam2_state": "fresh"}},
        rule="sam2_state",
        rule_help="SAM2 tracked backward in the session of the forward pass (the authors start "
        "a fresh one; sam2_state=fresh); listed when the key frame is not the first frame",
    ),
    DeviationRow(
        component="scoring",
        what="boxes of masks one pixel tall",
        authors="kept: a frame is skipped only for a zero mean width or height, or a zero width",
        ours="a box of zero width or height leaves the frame out (`n_degenerate_frames`)",
        switch="`--paper-exact` (DSR-Score `box_check=authors`); `dsr score --box-check authors`",
        preset={_SCORE: {"box_check": "authors"}},
        rule="thin_box",
        rule_help="frames with a zero-height box that the authors' checks keep were left out "
        "of the DSR-Score (box_check=authors)",
    ),
    DeviationRow(
        component="generation",
        what="Wan's sampler",
        authors="DiffSynth's flow-matching Euler, shift 5.0",
        ours="the same by default (`sampler=unipc` gives diffusers' example)",
        switch="the default; `--paper-exact` refuses `sampler=unipc`",
        preset={("generator", "wan"): {"sampler": "euler", "flow_shift": 5.0}},
    ),
    DeviationRow(
        component="generation",
        what="precision of Wan's conditioning timestep when sampling",
        authors="cast to bf16 before the transformer (float32 σ for the Euler steps)",
        ours="float32",
        switch="`--paper-exact` (`--generator-opt timestep_dtype=bfloat16`)",
        preset={("generator", "wan"): {"timestep_dtype": "bfloat16"}},
    ),
    DeviationRow(
        component="training",
        what="precision of the training timestep",
        authors="cast to bf16 before `add_noise` and the transformer: 294 distinct σ of the "
        "1000-step grid, timesteps moved by up to 2",
        ours="float32: all 1000 levels",
        switch="`dsr train --paper-exact` (`--timestep-dtype bfloat16`)",
        preset={_TRAINING: {"timestep_dtype": "bfloat16"}},
    ),
    DeviationRow(
        component="evaluation",
        what="the Correct@τ threshold",
        authors="`np.arange(0, 1, 0.1)`: τ = 0.7000000000000001 (and 0.30000000000000004, "
        "0.6000000000000001)",
        ours="τ = 0.7 as written",
        switch="`dsr eval --paper-exact` (`--tau-variant authors`)",
        preset={_EVAL: {"tau_variant": "authors"}},
    ),
    DeviationRow(
        component="evaluation",
        what="ID consistency and CLIP-IQA",
        authors="DINOv2 crops in the tracker's order with their `break` and 20-crop rule; "
        "torchmetrics' default CLIP-IQA model (piq's CLIP ResNet-50) on whole frames",
        ours="the same by default (`--id-variant time-order`, `--clip-iqa-variant hf-clip` give "
        "dsr's earlier variants)",
        switch="the default; `dsr eval --paper-exact` refuses the other variants",
        preset={_EVAL: {"id_variant": "authors", "clip_iqa_variant": "authors"}},
    ),
)

#: (kind, name) → why the preset cannot apply to it.
NOT_THE_AUTHORS: dict[Component, str] = {
    ("tracker", "sam3"): "the authors track with grounded-sam2 (Grounding DINO + SAM2.1), not SAM3",
}


def _merged(rows: tuple[DeviationRow, ...], from_files: bool) -> dict[Component, dict[str, Any]]:
    out: dict[Component, dict[str, Any]] = {}
    for row in rows:
        for component, values in row.preset.items():
            out.setdefault(component, {}).update(values)
        if from_files:
            for component, values in row.preset_from_files.items():
                out.setdefault(component, {}).update(values)
    return out


#: (kind, name) → the options that give the authors' behaviour (frames generated by dsr).
PAPER_EXACT: dict[Component, dict[str, Any]] = _merged(DEVIATION_ROWS, from_files=False)

#: Per-sample rule name → what it means (the ``deviations`` column's vocabulary).
RULES: dict[str, str] = {row.rule: row.rule_help for row in DEVIATION_ROWS if row.rule}


def preset_help(*, from_files: bool = False) -> str:
    """What the preset changes in grounded-sam2 and the DSR-Score, for help texts."""
    merged = _merged(DEVIATION_ROWS, from_files)
    tracker = ", ".join(f"{k}={v}" for k, v in merged[_GROUNDED].items())
    score = ", ".join(f"{k}={v}" for k, v in merged[_SCORE].items())
    return f"grounded-sam2 with {tracker}; the DSR-Score with {score}"


#: What the preset changes in a tracker, as the help of the ``paper_exact`` config fields says it.
TRACKER_PRESET_HELP = preset_help()


def paper_exact_options(
    kind: str, name: str, options: Mapping[str, Any], *, from_files: bool = False
) -> dict[str, Any]:
    """``options`` with the authors' values for the component ``(kind, name)``; an option the user
    set to another value is a conflict, refused with a message naming both. ``from_files``: the
    frames come from existing video files (``score-videos``), not from a generator."""
    if (kind, name) in NOT_THE_AUTHORS:
        raise ConfigError(
            f"--paper-exact with --{kind} {name}: {NOT_THE_AUTHORS[(kind, name)]}; "
            f"use --{kind} grounded-sam2 or drop --paper-exact"
        )
    preset = _merged(DEVIATION_ROWS, from_files).get((kind, name), {})
    clash = [f"{k}={options[k]!r}" for k in preset if k in options and options[k] != preset[k]]
    if clash:
        wanted = ", ".join(f"{k}={v!r}" for k, v in preset.items())
        raise ConfigError(
            f"--paper-exact sets {wanted} for the {kind} {name!r}, but {', '.join(clash)} was "
            f"given: drop --paper-exact or that option"
        )
    return {**options, **preset}


C = TypeVar("C")


def paper_exact_config(kind: str, name: str, config: C) -> C:
    """A settings dataclass (e.g. the DSR-Score's ``ScoreConfig``) with the authors' values for the
    component ``(kind, name)``; a field set away from its default to another value than theirs is
    refused, as in :func:`paper_exact_options`."""
    given = {}
    for f in fields(config):  # type: ignore[arg-type]
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        if getattr(config, f.name) != default:
            given[f.name] = getattr(config, f.name)
    return replace(config, **paper_exact_options(kind, name, given))  # type: ignore[type-var]


TABLE_BEGIN = "<!-- deviation-table: begin (generated by `python -m dsr.paper_exact README.md`) -->"
TABLE_END = "<!-- deviation-table: end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def deviation_table(rows: tuple[DeviationRow, ...] = DEVIATION_ROWS) -> str:
    """The README table of :data:`DEVIATION_ROWS` (Markdown, one line per row, ending in a
    newline)."""
    head = [
        "| component | what | the authors' code | dsr's default | restores theirs "
        "(all at once: `--paper-exact`) | per-sample rule |",
        "|---|---|---|---|---|---|",
    ]
    body = [
        "| "
        + " | ".join(
            _cell(v)
            for v in (
                r.component,
                r.what,
                r.authors,
                r.ours,
                r.switch,
                f"`{r.rule}`" if r.rule else "",
            )
        )
        + " |"
        for r in rows
    ]
    return "\n".join(head + body) + "\n"


def rewrite_table(text: str, table: str | None = None) -> str:
    """``text`` with the block between :data:`TABLE_BEGIN` and :data:`TABLE_END` replaced by the
    generated table; a text without both markers is refused."""
    start, end = text.find(TABLE_BEGIN), text.find(TABLE_END)
    if start < 0 or end < start:
        raise ConfigError(
            f"no deviation table markers found: put {TABLE_BEGIN!r} and {TABLE_END!r} on their "
            "own lines where the table belongs"
        )
    body = table if table is not None else deviation_table()
    return text[: start + len(TABLE_BEGIN)] + "\n" + body + text[end:]


def _main(argv: list[str]) -> int:
    """``python -m dsr.paper_exact [README.md]``: rewrite the table in place (or print it)."""
    if not argv:
        sys.stdout.write(deviation_table())
        return 0
    path = Path(argv[0])
    old = path.read_text(encoding="utf-8")
    new = rewrite_table(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
