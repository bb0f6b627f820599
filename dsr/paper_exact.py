"""The authors' behaviour one switch away: the ``--paper-exact`` preset.

Every rule of ours that goes beyond the authors' released scripts (SPEC §2–3) is an option whose
other value is theirs. :data:`PAPER_EXACT` lists, per component, the options that give their
behaviour; :func:`paper_exact_options` merges them into the user's options:

==========================  =====================================  ==============================
component                   ours (default)                         the authors' (``--paper-exact``)
==========================  =====================================  ==============================
tracker ``grounded-sam2``   ``label_match=normalized``             ``label_match=exact``
                            ``lost_track_fraction=0.9``            ``lost_track_fraction=1.0`` (off)
tracker ``annotations``     ``label_match=normalized``             ``label_match=exact``
generator ``wan``           ``sampler=euler``, ``flow_shift=5.0``  the same (refuses ``unipc``)
                            ``timestep_dtype=float32``             ``timestep_dtype=bfloat16``
training ``spatialalign``   ``timestep_dtype=float32``             ``timestep_dtype=bfloat16``
==========================  =====================================  ==============================

(``wan`` sampled with diffusers' UniPC by default before the authors' Euler became the default.)

The DSR-Score, validity thresholds and detector thresholds already are the authors' by default.
Components the authors did not use (``sam3``) are refused rather than silently kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dsr.errors import ConfigError

__all__ = ["NOT_THE_AUTHORS", "PAPER_EXACT", "TRACKER_PRESET_HELP", "paper_exact_options"]

#: What the preset changes in a tracker, as the help of the ``paper_exact`` config fields says it.
TRACKER_PRESET_HELP = (
    "exact label matching (label_match=exact), no lost-track rule (lost_track_fraction=1.0)"
)

#: (kind, name) → the options that give the authors' behaviour.
PAPER_EXACT: dict[tuple[str, str], dict[str, Any]] = {
    ("tracker", "grounded-sam2"): {"label_match": "exact", "lost_track_fraction": 1.0},
    ("tracker", "annotations"): {"label_match": "exact"},
    ("generator", "wan"): {"sampler": "euler", "flow_shift": 5.0, "timestep_dtype": "bfloat16"},
    ("training", "spatialalign"): {"timestep_dtype": "bfloat16"},
}

#: (kind, name) → why the preset cannot apply to it.
NOT_THE_AUTHORS: dict[tuple[str, str], str] = {
    ("tracker", "sam3"): "the authors track with grounded-sam2 (Grounding DINO + SAM2.1), not SAM3",
}


def paper_exact_options(kind: str, name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with the authors' values of ``PAPER_EXACT[(kind, name)]``; an option the user set
    to another value is a conflict, refused with a message naming both."""
    if (kind, name) in NOT_THE_AUTHORS:
        raise ConfigError(
            f"--paper-exact with --{kind} {name}: {NOT_THE_AUTHORS[(kind, name)]}; "
            f"use --{kind} grounded-sam2 or drop --paper-exact"
        )
    preset = PAPER_EXACT.get((kind, name), {})
    clash = [f"{k}={options[k]!r}" for k in preset if k in options and options[k] != preset[k]]
    if clash:
        wanted = ", ".join(f"{k}={v!r}" for k, v in preset.items())
        raise ConfigError(
            f"--paper-exact sets {wanted} for the {kind} {name!r}, but {', '.join(clash)} was "
            f"given: drop --paper-exact or that option"
        )
    return {**options, **preset}
