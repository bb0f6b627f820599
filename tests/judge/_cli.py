"""Running ``dsr`` in-process as a user would, and reading its one-line errors."""

from __future__ import annotations

from click.testing import CliRunner, Result

from dsr.cli import main


def run_cli(*args: str, input: str | None = None) -> Result:  # noqa: A002 - click's name
    return CliRunner().invoke(main, list(args), input=input)


def error_line(result: Result) -> str:
    """The one error line of a failed command (progress and the plan line may come before it)."""
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    return errors[0]
