"""The CLI boundary: every DsrError and every OSError (also one a library wrapped in its own error)
ends as one line naming the problem and the fix, exit code 1, no traceback; ``-vv`` shows the
traceback; any other exception (a bug, a library's own error) is one line naming it and saying to
rerun with ``-vv``; log lines have credentials masked."""

from __future__ import annotations

import errno
import logging

import click
import pytest
from click.testing import CliRunner, Result

from dsr.cli import COMMANDS, main
from dsr.errors import ConfigError, describe_os_error


@click.command()
@click.option("--what", required=True)
def boom(what: str) -> None:
    """A command that fails the way library code does."""
    if what == "config":
        raise ConfigError("bad value\n  over two lines: use another")
    if what == "wrapped-disk":  # as datasets wraps a write error in DatasetGenerationError
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "/data/out/samples.arrow")
        except OSError as exc:
            raise RuntimeError("An error occurred while generating the dataset") from exc
    if what == "rust-disk":  # as safetensors reports a write error: no OSError in the chain
        raise RuntimeError("Error while serializing: I/O error: File too large (os error 27)")
    if what == "refused":  # as requests wraps a refused connection
        try:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
        except OSError as exc:
            raise RuntimeError("Max retries exceeded with url: /api/whoami-v2") from exc
    if what == "log":
        logging.getLogger("httpx").info(
            "HTTP Request: POST https://alice:s3cr3t-pw@llm.example/v1/chat"
        )
        return
    raise KeyError(what)  # a bug


@pytest.fixture(autouse=True)
def _boom_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(COMMANDS, "boom", f"{__name__}:boom")


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, [*args])


def test_dsr_error_is_one_line_with_exit_code_1() -> None:
    result = _run("boom", "--what", "config")
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1
    assert result.output == "Error: bad value over two lines: use another\n"


def test_an_os_error_wrapped_by_a_library_is_one_line_naming_path_and_fix() -> None:
    result = _run("boom", "--what", "wrapped-disk")
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: No space left on device: '/data/out/samples.arrow': free some disk space (or "
        "choose another --out) and run the same command again: finished work is kept"
    ]


def test_vv_shows_the_traceback_and_still_ends_with_the_line() -> None:
    result = _run("-vv", "boom", "--what", "wrapped-disk")
    assert result.exit_code == 1 and "Traceback (most recent call last)" in result.output
    assert "RuntimeError: An error occurred" in result.output
    assert result.output.splitlines()[-1].startswith("Error: No space left on device")


def test_an_unexpected_error_is_one_line_that_says_to_rerun_with_vv() -> None:
    result = _run("boom", "--what", "other")
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: unexpected KeyError: 'other' (rerun with -vv for details)"
    ]
    verbose = _run("-vv", "boom", "--what", "other")
    assert "Traceback (most recent call last)" in verbose.output and verbose.exit_code == 1


def test_a_rust_library_write_error_is_described_as_the_os_error() -> None:
    result = _run("boom", "--what", "rust-disk")
    assert result.exit_code == 1 and len(result.output.splitlines()) == 1, result.output
    assert result.output.startswith("Error: File too large: the file system refused a file")


def test_a_refused_connection_says_to_check_the_network_not_the_disk() -> None:
    result = _run("boom", "--what", "refused")
    assert result.exit_code == 1 and len(result.output.splitlines()) == 1, result.output
    assert result.output.startswith("Error: Connection refused: check the network connection")
    assert "disk" not in result.output


def test_logged_urls_have_their_credentials_masked(caplog: pytest.LogCaptureFixture) -> None:
    result = _run("-v", "boom", "--what", "log")
    assert result.exit_code == 0, result.output
    assert "HTTP Request: POST https://***@llm.example/v1/chat" in caplog.text
    assert "s3cr3t" not in caplog.text and "alice" not in caplog.text


def test_a_real_full_device_error_is_described() -> None:
    """/dev/full answers every write with ENOSPC: the kernel's own error, not one made up here."""
    with pytest.raises(OSError) as err, open("/dev/full", "wb") as fh:
        fh.write(b"x" * 10)
        fh.flush()
    assert err.value.errno == errno.ENOSPC
    text = describe_os_error(err.value)
    assert text.startswith("No space left on device") and "free some disk space" in text
