"""Re-running ``dsr report`` writes only what changed, removes only its own stale files, and
``--link-videos`` links instead of copying."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dsr.builders.folder import DatasetFolder
from dsr.errors import ConfigError
from dsr.report import ReportConfig, build_report
from dsr.report.layout import (
    INDEX_DATA,
    LOCK,
    OVERVIEW_DATA,
    PAIRS_DATA,
    SAMPLE_DATA,
    file_key,
)


def _rewrite_score(folder: Path, sample_id: str, score: float) -> None:
    """Change one stored DSR-Score in place (same file name: as if the file had been edited)."""
    for split in ("train", "test"):
        for path in DatasetFolder(folder).data_files("samples", split):
            table = pq.read_table(path)
            ids = table.column("sample_id").to_pylist()
            if sample_id in ids:
                scores = table.column("dsr_score").to_pylist()
                scores[ids.index(sample_id)] = score
                i = table.schema.get_field_index("dsr_score")
                pq.write_table(
                    table.set_column(i, "dsr_score", pa.array(scores, pa.float64())), path
                )
                return
    raise AssertionError(sample_id)


def _stamps(report: Path) -> dict[Path, int]:
    """Modification times of the report's files (the lock names each run's process: left out)."""
    return {p: p.stat().st_mtime_ns for p in report.rglob("*") if p.is_file() and p.name != LOCK}


def test_rerun_without_changes_writes_nothing(
    report: Path, dataset: Path, evaluation: Path
) -> None:
    before = _stamps(report)
    result = build_report(
        ReportConfig(source=str(dataset), out=str(report), eval_results=str(evaluation))
    )
    assert result.written == [] and result.removed == []
    assert result.videos.written == 0 and result.videos.kept == result.samples
    assert _stamps(report) == before


def test_rerun_after_one_changed_row_writes_that_sample_and_the_summaries(
    dataset_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    first = build_report(ReportConfig(source=str(dataset_copy), out=str(out)))
    target = "train-002__seed00"
    _rewrite_score(dataset_copy, target, 0.123)
    second = build_report(ReportConfig(source=str(dataset_copy), out=str(out)))
    assert SAMPLE_DATA.format(key=file_key(target)) in second.written
    assert set(second.written) <= {
        SAMPLE_DATA.format(key=file_key(target)),
        INDEX_DATA,
        OVERVIEW_DATA,
        PAIRS_DATA,
    }
    assert (
        second.videos.written == 0 and second.videos.kept == first.videos.written
    )  # bytes re-read, same digests
    assert "0.123" in (out / SAMPLE_DATA.format(key=file_key(target))).read_text()


def test_stale_sample_files_are_removed_and_foreign_files_kept(
    dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build_report(ReportConfig(source=str(dataset), out=str(out)))
    (out / "notes.txt").write_text("mine")
    result = build_report(ReportConfig(source=str(dataset), out=str(out), splits=("test",)))
    gone = [r for r in result.removed if r.startswith("videos/train-")]
    assert len(gone) == 30 and not any((out / r).exists() for r in result.removed)
    assert (out / "videos" / "test-000__seed00.mp4").is_file() and (
        out / "notes.txt"
    ).read_text() == "mine"


def test_link_videos_links_the_work_area_files(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = build_report(ReportConfig(source=str(dataset), out=str(out), link_videos=True))
    assert result.videos.linked == result.samples and result.videos.written == 0
    work = {p.name: p for p in (dataset / ".dsr" / "videos").rglob("*.mp4")}
    for video in (out / "videos").iterdir():
        assert os.path.samefile(video, work[video.name])
    again = build_report(ReportConfig(source=str(dataset), out=str(out), link_videos=True))
    assert again.written == [] and again.videos.linked == 0


def test_a_folder_that_is_not_a_report_is_refused(dataset: Path, tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    with pytest.raises(ConfigError, match="not a dsr report"):
        build_report(ReportConfig(source=str(dataset), out=str(tmp_path / "mine")))
    with pytest.raises(ConfigError, match="inside the dataset folder"):
        build_report(ReportConfig(source=str(dataset), out=str(dataset / "report")))
