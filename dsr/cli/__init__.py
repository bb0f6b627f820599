"""The ``dsr`` command line: one Click group; each command parses options, builds a config and
calls one library function. Heavy imports happen inside the commands, so ``--help`` is instant.

Commands live in one module each under ``dsr.cli`` and are listed in ``COMMANDS``.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import traceback
from typing import Any, NoReturn

import click

from dsr import __version__
from dsr.errors import DsrError, describe_os_error, os_error_in_chain

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
    "eval": "dsr.cli.eval:eval_group",
    "judge": "dsr.cli.judge:judge",
    "report": "dsr.cli.report:report",
}


class _MaskSecrets(logging.Filter):
    """Masks credentials in URLs and token-like strings in every log line (``-v`` shows the URLs
    that httpx, openai and huggingface_hub request), as they are masked in written files."""

    def filter(self, record: logging.LogRecord) -> bool:
        from dsr.cards import mask_secrets

        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


class _PrintedOnce(logging.Filter):
    """Drops the records a library's own handler has already printed (huggingface_hub adds one
    to its logger and lets records propagate too: every retry warning would show twice)."""

    def filter(self, record: logging.LogRecord) -> bool:
        logger: logging.Logger | None = logging.getLogger(record.name)
        while logger is not None and logger is not logging.root:
            if logger.handlers:
                return False
            if not logger.propagate:
                break
            logger = logger.parent
        return True


def _fail(message: str, verbose: int) -> NoReturn:
    """One line naming the problem and the fix, exit code 1; ``-vv`` shows the traceback first."""
    from dsr.cards import mask_secrets

    if verbose > 1:
        traceback.print_exc()
    one_line = " ".join(line.strip() for line in message.splitlines() if line.strip())
    click.echo(mask_secrets(f"Error: {one_line}"), err=True)
    sys.exit(1)


class _Group(click.Group):
    """Lazily loads commands; turns DsrError and OSError (also when a library wrapped it) into a
    one-line message with exit code 1, for every command; any other exception too, as one line
    that names it and says to rerun with ``-vv`` (which shows its traceback)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, _, attr = COMMANDS[name].partition(":")
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx: click.Context) -> Any:
        verbose = int(ctx.params.get("verbose") or 0)
        try:
            return super().invoke(ctx)
        except DsrError as exc:
            _fail(str(exc), verbose)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # usage errors (one line, exit code 2), --help, Ctrl-C: click handles them
        except Exception as exc:
            os_error = os_error_in_chain(exc)
            if os_error is not None:
                _fail(describe_os_error(os_error), verbose)
            _fail(_describe_unexpected(exc), verbose)


#: What torch's checkpoint writer says when a write fails (it keeps no OSError to look at).
_TORCH_WRITE_FAILED = ("PytorchStreamWriter failed", "inline_container.cc")


def _describe_unexpected(exc: Exception) -> str:
    """One line for an exception no check foresaw: its type and first line, and how to see more."""
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    if any(marker in first for marker in _TORCH_WRITE_FAILED):
        return (
            f"writing a file failed (torch: {first}): the disk is probably full or a file-size "
            "limit was hit: free some space and run the same command again: finished work is kept"
        )
    what = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return f"unexpected {what} (rerun with -vv for details)"


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dsr")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug and tracebacks).")
def main(verbose: int) -> None:
    """Build the DSR-Dataset and train SpatialAlign adapters."""
    # datasets' per-write progress bars drown our own; set before datasets is imported.
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        for kind in (_PrintedOnce, _MaskSecrets):
            if not any(isinstance(f, kind) for f in handler.filters):
                handler.addFilter(kind())
    logging.getLogger("dsr").setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    if verbose:
        logging.getLogger().setLevel(logging.INFO if verbose == 1 else logging.DEBUG)
