"""Options shared by several commands: the tracker and its model settings, and the Hub push.

The tracker's model options are generated from the trackers' configs
(:class:`~dsr.tracking.grounded_sam2.GroundedSam2Config`, :class:`~dsr.tracking.sam3.Sam3Config`
and their shared :class:`~dsr.tracking.models.ModelTrackerConfig`): their help texts and defaults
are the configs'. Each option reaches only the trackers whose config has it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from dsr.cli._dataclass_options import (
    OptionStyle,
    dataclass_options,
    field_kwargs,
    parse_key_values,
)
from dsr.tracking.base import DEFAULT_TRACKER
from dsr.tracking.grounded_sam2 import GroundedSam2Config
from dsr.tracking.models import ModelTrackerConfig
from dsr.tracking.sam3 import Sam3Config

__all__ = [
    "FORCE_TAG_HELP",
    "deviation_line",
    "preflight_push_options",
    "push_from_options",
    "push_options",
    "tracker_kwargs",
    "tracker_options",
]

F = TypeVar("F", bound=Callable[..., Any])

#: How each tracker config's fields are offered: keywords are prefixed so that, e.g., the
#: detector's ``batch_size`` never meets build-videos' own ``--batch-size``.
_GROUNDED = OptionStyle(
    names={"batch_size": "--detector-batch-size"},
    dest_prefix="gsam2_",
    help_prefix="grounded-sam2: ",
)
_SAM3 = OptionStyle(names={"model": "--sam3"}, dest_prefix="sam3_", help_prefix="sam3: ")
_MODEL = OptionStyle(dest_prefix="model_")
_MODEL_FIELDS = ("device", "dtype")
#: tracker → the configs (with the style of their options) whose given options it takes.
_TRACKER_CONFIGS: dict[str, tuple[tuple[type, OptionStyle], ...]] = {
    "grounded-sam2": ((ModelTrackerConfig, _MODEL), (GroundedSam2Config, _GROUNDED)),
    "sam3": ((ModelTrackerConfig, _MODEL), (Sam3Config, _SAM3)),
}


def _decorate(fn: F, decorators: Sequence[Callable[[F], F]]) -> F:
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def _key_values(ctx: click.Context, param: click.Parameter, value: Sequence[str]) -> dict[str, Any]:
    return parse_key_values(value)


def tracker_options(choices: Sequence[str]) -> Callable[[F], F]:
    """``--tracker`` (one of ``choices``), the model options of the trackers, and ``--tracker-opt``
    for any other option of the chosen tracker's config."""
    opts: list[Callable[[F], F]] = [
        click.option(
            "--tracker",
            default=DEFAULT_TRACKER,
            show_default=True,
            type=click.Choice(list(choices)),
            help="Tracker of the animal and the object.",
        ),
        dataclass_options(GroundedSam2Config, only=("detector", "sam2"), style=_GROUNDED),
        dataclass_options(Sam3Config, only=("model",), style=_SAM3),
        dataclass_options(
            GroundedSam2Config,
            only=("box_threshold", "text_threshold", "batch_size"),
            style=_GROUNDED,
        ),
        dataclass_options(ModelTrackerConfig, only=_MODEL_FIELDS, style=_MODEL),
        click.option(
            "--tracker-opt",
            "tracker_opts",
            multiple=True,
            metavar="KEY=VALUE",
            callback=_key_values,
            help=(
                "Any other option of the tracker's config, e.g. "
                "lost_track_fraction=1.0 (repeatable)."
            ),
        ),
    ]
    return lambda fn: _decorate(fn, opts)


def tracker_kwargs(kw: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of the chosen tracker from the options of :func:`tracker_options`: its
    ``--tracker-opt`` pairs, then the model options its config takes."""
    options = dict(kw.get("tracker_opts") or {})
    for config_class, style in _TRACKER_CONFIGS.get(kw["tracker"], ()):
        options.update(field_kwargs(config_class, kw, dest_prefix=style.dest_prefix))
    return options


def deviation_line(counts: dict[str, int]) -> str:
    """``changed by rules beyond the authors' code: 3 samples (label_match=3); --paper-exact
    turns them off``."""
    changed = counts.get("changed", 0)
    per_rule = ", ".join(f"{k}={v}" for k, v in counts.items() if k != "changed")
    return (
        f"changed by rules beyond the authors' code: {changed} samples"
        + (f" ({per_rule})" if per_rule else "")
        + ("; --paper-exact turns them off" if changed else "")
    )


#: Help of ``--force`` where it only moves a tag.
FORCE_TAG_HELP = "Move an existing version tag on the Hub (never done otherwise)."


def push_options(force_help: str = FORCE_TAG_HELP) -> Callable[[F], F]:
    """``--push``, ``--version``, ``--private`` and ``--force``: the same in every command that
    pushes a dataset folder."""
    opts: list[Callable[[F], F]] = [
        click.option(
            "--push",
            "push_repo",
            metavar="REPO_ID",
            help="Push the folder to this Hub dataset repo "
            "(token: $HF_TOKEN or `hf auth login`); repo, version, token and tag are "
            "checked first.",
        ),
        click.option(
            "--version",
            help="Tag of the pushed commit, vX.Y.Z (an existing tag is never moved "
            "without --force).",
        ),
        click.option("--private", is_flag=True, help="Create the Hub repo private."),
        click.option("--force", is_flag=True, help=force_help),
    ]
    return lambda fn: _decorate(fn, opts)


def preflight_push_options(
    kw: dict[str, Any], *, need_version: bool, force_needs_push: bool = True
) -> None:
    """Everything about ``--push`` that can fail, checked before the long work: options that
    need ``--push``, the repo id, the version, the token and whether the tag is still free."""
    from dsr.errors import ConfigError
    from dsr.hub import preflight_push

    given = [
        f"--{name}"
        for name in ("version", "private", "force")
        if kw[name] and (name != "force" or force_needs_push)
    ]
    if given and not kw["push_repo"]:
        raise ConfigError(
            f"{', '.join(given)} apply only with --push REPO_ID: add --push or leave them out"
        )
    if not kw["push_repo"]:
        return
    if need_version and not kw["version"]:
        raise ConfigError("--push needs --version vX.Y.Z (the tag of this dataset version)")
    preflight_push(kw["push_repo"], kw["version"], repo_type="dataset", force=kw["force"])


def push_from_options(
    kw: dict[str, Any], folder: Path, config_names: list[str] | None = None
) -> None:
    """Push ``folder`` as the options of :func:`push_options` say, and print where it went."""
    from dsr.hub import push_folder

    sha = push_folder(
        folder,
        kw["push_repo"],
        version=kw["version"],
        private=kw["private"],
        force=kw["force"],
        config_names=config_names,
    )
    click.echo(
        f"pushed {kw['push_repo']}" + (f"@{kw['version']}" if kw["version"] else "") + f" ({sha})"
    )
