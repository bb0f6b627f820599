"""``dsr build-prompts``: synthesize the DSR prompts and write (and optionally push) the dataset.

The options are generated from :class:`~dsr.builders.prompt_config.PromptBuildConfig` and from the
configs of the ``openai`` and ``file`` backends.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from dsr.builders.prompt_backends.files import FileBackendConfig
from dsr.builders.prompt_backends.openai_chat import OpenAIBackendConfig
from dsr.builders.prompt_config import PromptBuildConfig
from dsr.cli._dataclass_options import OptionStyle, dataclass_options, field_default, field_kwargs
from dsr.cli._options import preflight_push_options, push_from_options, push_options

#: ``--force`` of build-prompts also replaces prompts that other configs depend on.
FORCE_HELP = (
    "Replace prompts that the folder's samples/pairs (or unmerged samples) still name, and move "
    "an existing version tag on the Hub."
)

_BUILD_FIELDS = (
    "out",
    "backend",
    "n_train",
    "n_test",
    "relations",
    "three_stage",
    "seed",
    "disjoint",
    "strict",
    "max_rounds",
)
_OPENAI_FIELDS = (
    "model",
    "base_url",
    "per_request",
    "concurrency",
    "timeout",
    "max_retries",
    "structured",
)
#: Options of a backend's config carry the backend's name as keyword prefix (``openai_model``).
_OPENAI = OptionStyle(
    names={"structured": "--structured/--json-mode"}, dest_prefix="openai_", help_prefix="[openai] "
)
_FILE = OptionStyle(
    names={"path": "--input"},
    types={"path": click.Path(exists=True, dir_okay=False)},
    dest_prefix="file_",
    help_prefix="[file] ",
)


def _backend_options(backend: str, kw: dict[str, Any]) -> dict[str, Any]:
    """Only the options of the chosen backend, and only those the user set."""
    from dsr.builders.prompt_backends import PROMPT_BACKENDS

    config_class = PROMPT_BACKENDS.resolve(backend).config_class
    return field_kwargs(config_class, kw, dest_prefix=f"{backend}_")


@click.command()
@dataclass_options(
    PromptBuildConfig,
    only=_BUILD_FIELDS,
    style=OptionStyle(types={"out": click.Path(file_okay=False, path_type=Path)}),
)
@dataclass_options(OpenAIBackendConfig, only=_OPENAI_FIELDS, style=_OPENAI)
@dataclass_options(FileBackendConfig, only=("path",), style=_FILE)
@push_options(FORCE_HELP)
def build_prompts(**kw: Any) -> None:
    """Build the `prompts` config (train/test DSR prompts) of a dataset folder."""
    from dsr.builders.prompts import build_prompts as run
    from dsr.cards import sanitize_command
    from dsr.fileio import check_output_dir

    out = kw["out"]
    check_output_dir(out)
    # fail before a build that may take long or cost API calls, not after it
    preflight_push_options(kw, need_version=False, force_needs_push=False)
    backend = kw["backend"] or field_default(PromptBuildConfig, "backend")
    config = PromptBuildConfig(
        **field_kwargs(PromptBuildConfig, kw),
        backend_options=_backend_options(backend, kw),
        replace=kw["force"],
        command=sanitize_command(["dsr", *sys.argv[1:]]),
    )
    result = run(config)
    for split, counts in result.counts.items():
        click.echo(
            f"{split}: {sum(counts.values())} prompts "
            + " ".join(f"{c}={n}" for c, n in counts.items())
        )
    if result.rejects:
        click.echo(
            "rejected: "
            + ", ".join(f"{r}={n}" for r, n in result.rejects.items())
            + f" (see {result.rejects_file})"
        )
    if result.shortfall:
        click.echo(f"Warning: could not fill every type, missing {result.shortfall}", err=True)
    click.echo(f"wrote {out}")
    if kw["push_repo"]:
        push_from_options(kw, out, config_names=["prompts"])
