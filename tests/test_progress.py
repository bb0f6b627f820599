"""Progress bars: a redrawn bar on a terminal; on a log file, whole lines at a bounded rate (not
one carriage-return update per sample, which made 63 KB of log for 300 samples)."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

import dsr.progress
from dsr.progress import LogLineProgress, progress_bar

ROOT = Path(__file__).resolve().parents[1]

#: 300 samples, each with a postfix as build-videos sets it; the bar's output goes to stderr.
LOOP = """
import time
from dsr.progress import progress_bar
start = time.monotonic()
bar = progress_bar(total=300, desc="build-videos", unit="sample")
for i in range(300):
    time.sleep(0.004)
    bar.set_postfix(valid=f"{(i % 7) / 7:.2f}")
    bar.update(1)
bar.close()
print(time.monotonic() - start)
"""


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_file_gets_whole_lines_at_a_bounded_rate(tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    env = {"PYTHONPATH": str(ROOT), "TQDM_MININTERVAL": "0.5", "PATH": "/usr/bin:/bin"}
    with log.open("wb") as stderr:
        done = subprocess.run(
            [sys.executable, "-c", LOOP],
            stderr=stderr,
            stdout=subprocess.PIPE,
            env=env,
            timeout=120,
        )
    assert done.returncode == 0, log.read_text()
    seconds = float(done.stdout)  # about 1.2 s, more on a busy machine
    text = log.read_text(encoding="utf-8")
    lines = text.splitlines()
    # the first line, one per 0.5 s, the last: far from one line (or one redraw) per sample
    assert 2 <= len(lines) <= 3 + seconds / 0.5 and "\r" not in text and text.endswith("\n")
    assert len(text.encode()) < 100 * len(lines)
    assert lines[0].startswith("build-videos:   0%") and "0/300" in lines[0]
    assert "300/300" in lines[-1] and "valid=" in lines[-1]


def test_lines_come_at_the_start_every_interval_and_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(dsr.progress.time, "monotonic", clock)
    out = io.StringIO()
    bar = LogLineProgress(total=300, desc="eval", unit="video", interval=30.0, file=out)
    for _ in range(300):  # one item per (fake) second for 300 s
        clock.now += 1.0
        bar.update(1)
    bar.close()
    bar.close()  # a second close writes nothing
    lines = out.getvalue().splitlines()
    # at 0 s, at 30, 60, ..., 300 s (ten lines), and when closed
    assert len(lines) == 1 + 300 // 30 + 1
    assert ["%" in line and f"{30 * k}/300" in line for k, line in enumerate(lines[:-1])] == [
        True
    ] * 11


def test_iterating_counts_every_item_and_closes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    items = list(progress_bar(range(5), desc="score-videos", unit="video"))
    assert items == [0, 1, 2, 3, 4]
    lines = sys.stderr.getvalue().splitlines()
    assert len(lines) == 2 and "5/5" in lines[-1]


def test_a_terminal_gets_tqdm_and_tqdm_disable_silences_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tqdm.std import tqdm

    monkeypatch.setattr(sys, "stderr", Terminal())
    bar = progress_bar(total=3, desc="judge", unit="video")
    assert isinstance(bar, tqdm) and not bar.disable
    bar.close()
    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    quiet = progress_bar(total=3, desc="judge", unit="video")
    quiet.update(3)
    quiet.close()
    assert sys.stderr.getvalue() == ""


def test_build_videos_into_a_log_file_writes_a_few_lines(tmp_path: Path) -> None:
    """The call site that logged an update per sample: 30 samples, a handful of lines."""
    sys.path.insert(0, str(ROOT / "tests" / "builders"))
    from _videos_helpers import TINY, prompt_records, write_prompts

    from dsr.builders.videos import VideoBuildConfig, build_videos

    prompts = write_prompts(tmp_path / "ds", prompt_records(6))
    config = VideoBuildConfig(
        prompts=str(prompts),
        out=str(prompts),
        generator="synthetic",
        generator_options={**TINY, "num_frames": 24, "scenario": "cycle"},
        tracker="annotations",
        samples_per_prompt=5,
    )
    log = tmp_path / "stderr.log"
    with log.open("w", encoding="utf-8") as stderr, contextlib.redirect_stderr(stderr):
        result = build_videos(config)
    assert result.built == 30
    bar_lines = [line for line in log.read_text().splitlines() if "build-videos" in line]
    assert 1 <= len(bar_lines) <= 6 and "30/30" in bar_lines[-1]
    assert log.stat().st_size < 1000


def test_training_prints_log_lines_instead_of_a_bar_when_stderr_is_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsr.training.config import SpatialAlignConfig

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert SpatialAlignConfig(output_dir=str(tmp_path)).disable_tqdm is True
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert SpatialAlignConfig(output_dir=str(tmp_path)).disable_tqdm is False
    assert SpatialAlignConfig(output_dir=str(tmp_path), disable_tqdm=False).disable_tqdm is False
