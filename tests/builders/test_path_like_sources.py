"""A path-looking argument (``data/dsr``, the README's folder, before it is built) that is neither a
folder nor a dataset on the Hub fails at once with one line, without half a minute of retries."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dsr.builders.dataset_source import looks_local
from dsr.builders.prompt_source import load_prompt_records
from dsr.errors import DataError


@pytest.mark.parametrize(
    ("source", "local"),
    [
        ("you/dsr-dataset", False),
        ("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", False),
        ("data/dsr", True),  # data/ exists in the test's folder
        ("dsr", True),
        ("./dsr", True),
        ("a/b/c", True),
        ("you/bad--name", True),  # not a name the Hub allows
        ("you/with space", True),
    ],
)
def test_looks_local(source: str, local: bool, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    assert looks_local(source) is local


def test_missing_folder_under_an_existing_one_never_asks_the_hub(
    tmp_path: Path, monkeypatch, hub
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    before = hub.count(contains="data/dsr")
    with pytest.raises(DataError, match="prompts folder data/dsr does not exist"):
        load_prompt_records("data/dsr", "train")
    assert hub.count(contains="data/dsr") == before


def test_unreachable_hub_fails_at_once_with_one_line(tmp_path: Path) -> None:
    """No ``data/`` folder at all, and a Hub that refuses connections: one line in seconds."""
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]  # closed when the block ends: connections are refused
    env = {
        **os.environ,
        "HF_ENDPOINT": f"http://127.0.0.1:{closed}",
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_OFFLINE": "0",
    }
    args = ["build-videos", "--prompts", "data/dsr", "--out", "ds", "--generator", "synthetic"]
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "dsr", *args, "--tracker", "annotations"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    elapsed = time.monotonic() - start
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "prompts data/dsr is not a local folder" in lines[0], lines
    assert elapsed < 15, elapsed  # the datasets library alone retries for ~30 s
