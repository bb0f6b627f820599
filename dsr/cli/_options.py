"""Options shared by several commands (tracker choice and model settings, KEY=VALUE lists, Hub push)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

#: CLI option → tracker keyword, per tracker that takes it.
_TRACKER_FIELDS: dict[str, dict[str, str]] = {
    "grounded-sam2": {"detector": "detector", "sam2": "sam2", "box_threshold": "box_threshold",
                      "text_threshold": "text_threshold", "batch_size": "batch_size",
                      "device": "device", "dtype": "dtype"},
    "sam3": {"sam3": "model", "device": "device", "dtype": "dtype"},
}


def parse_key_values(values: tuple[str, ...]) -> dict[str, Any]:
    """KEY=VALUE pairs; VALUE is parsed as JSON when it can be (numbers, true, lists)."""
    out: dict[str, Any] = {}
    for item in values:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE")
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = value
    return out


def tracker_options(default: str, choices: tuple[str, ...]) -> Callable[[F], F]:
    """The --tracker choice plus the model and threshold options of the grounded trackers."""
    opts = [
        click.option("--tracker", default=default, show_default=True, type=click.Choice(choices), help="Tracker."),
        click.option("--detector", help="grounded-sam2: Grounding DINO Hub id or local dir [default: IDEA-Research/grounding-dino-tiny]."),
        click.option("--sam2", help="grounded-sam2: SAM2 video Hub id or local dir [default: facebook/sam2.1-hiera-large]."),
        click.option("--sam3", help="sam3: SAM3 video Hub id or local dir [default: facebook/sam3]."),
        click.option("--box-threshold", type=float, help="grounded-sam2 box threshold [default: 0.4]."),
        click.option("--text-threshold", type=float, help="grounded-sam2 text threshold [default: 0.3]."),
        click.option("--detector-batch-size", "batch_size", type=int, help="Frames per detector forward pass [default: 8]."),
        click.option("--device", help="torch device [default: cuda (LOCAL_RANK) when present, else cpu]."),
        click.option("--dtype", type=click.Choice(["float32", "float16", "bfloat16"]), help="Model dtype [default: float32]."),
        click.option("--tracker-opt", "tracker_opts", multiple=True, metavar="KEY=VALUE", help="Any other tracker option (repeatable)."),
    ]

    def decorate(fn: F) -> F:
        for opt in reversed(opts):
            fn = opt(fn)
        return fn

    return decorate


def paper_exact_option(fn: F) -> F:
    """``--paper-exact``: the authors' behaviour wherever ours differs (see ``dsr.paper_exact``)."""
    return click.option(
        "--paper-exact", is_flag=True,
        help="The authors' behaviour wherever ours differs, recorded in the settings: exact label matching "
             "(label_match=exact), no lost-track rule (lost_track_fraction=1.0) and, for wan, the Euler "
             "sampler with shift 5 (sampler=euler, flow_shift=5.0). Refused with sam3.",
    )(fn)


def deviation_line(counts: dict[str, int]) -> str:
    """``changed by rules beyond the authors' code: 3 samples (label_match=3); --paper-exact turns them off``."""
    changed = counts.get("changed", 0)
    per_rule = ", ".join(f"{k}={v}" for k, v in counts.items() if k != "changed")
    return (f"changed by rules beyond the authors' code: {changed} samples" + (f" ({per_rule})" if per_rule else "")
            + ("; --paper-exact turns them off" if changed else ""))


def tracker_kwargs(kw: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of the chosen tracker from the options of :func:`tracker_options`."""
    options = parse_key_values(kw.get("tracker_opts", ()))
    for cli_name, field_name in _TRACKER_FIELDS.get(kw["tracker"], {}).items():
        if kw.get(cli_name) is not None:
            options[field_name] = kw[cli_name]
    return options


#: Help of ``--force`` where it only moves a tag.
FORCE_TAG_HELP = "Move an existing version tag on the Hub (never done otherwise)."


def push_options(force_help: str = FORCE_TAG_HELP) -> Callable[[F], F]:
    """``--push``, ``--version``, ``--private`` and ``--force``: the same in every command that
    pushes a dataset folder."""
    opts = [
        click.option("--push", "push_repo", metavar="REPO_ID", help="Push the folder to this Hub dataset repo "
                     "(token: $HF_TOKEN or `hf auth login`); repo, version, token and tag are checked first."),
        click.option("--version", help="Tag of the pushed commit, vX.Y.Z (an existing tag is never moved "
                     "without --force)."),
        click.option("--private", is_flag=True, help="Create the Hub repo private."),
        click.option("--force", is_flag=True, help=force_help),
    ]

    def decorate(fn: F) -> F:
        for opt in reversed(opts):
            fn = opt(fn)
        return fn

    return decorate


def preflight_push_options(kw: dict[str, Any], *, need_version: bool, force_needs_push: bool = True) -> None:
    """Everything about ``--push`` that can fail, checked before the long work: options that
    need ``--push``, the repo id, the version, the token and whether the tag is still free."""
    from dsr.errors import ConfigError
    from dsr.hub import preflight_push

    given = [f"--{name}" for name in ("version", "private", "force") if kw[name]
             and (name != "force" or force_needs_push)]
    if given and not kw["push_repo"]:
        raise ConfigError(f"{', '.join(given)} apply only with --push REPO_ID: add --push or leave them out")
    if not kw["push_repo"]:
        return
    if need_version and not kw["version"]:
        raise ConfigError("--push needs --version vX.Y.Z (the tag of this dataset version)")
    preflight_push(kw["push_repo"], kw["version"], repo_type="dataset", force=kw["force"])


def push_from_options(kw: dict[str, Any], folder: Path, config_names: list[str] | None = None) -> None:
    """Push ``folder`` as the options of :func:`push_options` say, and print where it went."""
    from dsr.hub import push_folder

    sha = push_folder(folder, kw["push_repo"], version=kw["version"], private=kw["private"], force=kw["force"],
                      config_names=config_names)
    click.echo(f"pushed {kw['push_repo']}" + (f"@{kw['version']}" if kw["version"] else "") + f" ({sha})")
