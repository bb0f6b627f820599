"""The ``dsr`` command line: one Click group; each command parses options, builds a config and
calls one library function. Heavy imports happen inside the commands, so ``--help`` is instant.

Commands live in one module each under ``dsr.cli`` and are listed in ``COMMANDS``.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any

import click

from dsr import __version__
from dsr.errors import DsrError

__all__ = ["COMMANDS", "main"]

#: command name → "module:function" (imported only when the command runs or lists its help).
COMMANDS: dict[str, str] = {
    "score": "dsr.cli.score:score",
    "demo": "dsr.cli.demo:demo",
    "build-prompts": "dsr.cli.build_prompts:build_prompts",
    "build-videos": "dsr.cli.build_videos:build_videos",
    "score-videos": "dsr.cli.score_videos:score_videos",
    "audit-tracker": "dsr.cli.audit_tracker:audit_tracker",
    "train": "dsr.cli.train:train",
}


class _Group(click.Group):
    """Lazily loads commands and turns DsrError into a one-line message with exit code 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, _, attr = COMMANDS[name].partition(":")
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DsrError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dsr")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """Build the DSR-Dataset and train SpatialAlign adapters."""
    # datasets' per-write progress bars drown our own; set before datasets is imported.
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("dsr").setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    if verbose:
        logging.getLogger().setLevel(logging.INFO if verbose == 1 else logging.DEBUG)
