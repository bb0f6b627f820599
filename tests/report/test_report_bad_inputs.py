"""Bad input: one clear line naming the problem and the fix, and the rest of the report written."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _report_helpers import prompt_rows
from click.testing import CliRunner
from test_report_data import js_data, sample_data

from dsr.builders.folder import ConfigRecord, DatasetFolder
from dsr.cli import main
from dsr.errors import DataError
from dsr.report import ReportConfig, build_report
from dsr.report.eval_results import metric_rows


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["report", *args])
    return result.exit_code, result.stdout, result.stderr


def _null_video(folder: Path, sample_id: str) -> None:
    """Store a null video for one sample, in place."""
    for path in DatasetFolder(folder).data_files("samples", "train"):
        table = pq.read_table(path)
        ids = table.column("sample_id").to_pylist()
        if sample_id in ids:
            videos = table.column("video").to_pylist()
            videos[ids.index(sample_id)] = None
            i = table.schema.get_field_index("video")
            pq.write_table(
                table.set_column(
                    i, table.schema.field(i), pa.array(videos, table.schema.field(i).type)
                ),
                path,
            )
            return
    raise AssertionError(sample_id)


def test_folder_without_samples_says_so_and_still_writes_the_overview(tmp_path: Path) -> None:
    import datasets

    folder = tmp_path / "prompts-only"
    DatasetFolder(folder).write_config(
        "prompts",
        {"train": datasets.Dataset.from_list(prompt_rows("train"))},
        ConfigRecord(description="test prompts", columns={}),
    )
    code, out, err = _run(str(folder), "--out", str(tmp_path / "site"))
    assert code == 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Warning: prompts-only has no samples config")
    assert "dsr build-videos" in lines[0]
    overview = js_data(tmp_path / "site" / "data" / "overview.js", "overview")
    assert overview["problems"] == [lines[0].removeprefix("Warning: ")] and overview["splits"] == {}
    assert (tmp_path / "site" / "index.html").is_file() and (
        tmp_path / "site" / "gallery.html"
    ).is_file()
    assert out.strip().endswith("index.html")
    strict, _, _ = _run(str(folder), "--out", str(tmp_path / "site"), "--strict")
    assert strict == 1


def test_null_video_is_reported_and_the_sample_page_still_written(
    dataset_copy: Path, tmp_path: Path
) -> None:
    _null_video(dataset_copy, "train-001__seed05")
    result = build_report(ReportConfig(source=str(dataset_copy), out=str(tmp_path / "site")))
    assert [str(p) for p in result.problems] == [
        "1 sample(s) of copy have no video (e.g. train-001__seed05): their pages show the stored "
        "boxes without it; rebuild those samples (dsr build-videos / score-videos) to "
        "see their videos"
    ]
    page = sample_data(tmp_path / "site", "train-001__seed05")
    assert page["video"] is None and any(page["animal_boxes"])
    assert not (tmp_path / "site" / "videos" / "train-001__seed05.mp4").exists()
    assert result.videos.written == result.samples - 1


def test_missing_build_record_is_reported_and_files_found_by_name(
    dataset_copy: Path, tmp_path: Path
) -> None:
    (dataset_copy / "dsr_build.json").unlink()
    code, _, err = _run(str(dataset_copy), "--out", str(tmp_path / "site"))
    assert code == 0
    assert err.strip().splitlines() == [
        "Warning: copy has no dsr_build.json: the build settings and pairs counts are left out of "
        "the report; restore the file (from the Hub or a backup) or rebuild the folder with "
        "dsr to see them"
    ]
    overview = js_data(tmp_path / "site" / "data" / "overview.js", "overview")
    stored = sum(pq.read_metadata(p).num_rows for p in (dataset_copy / "samples").glob("*.parquet"))
    assert sum(s["samples"] for s in overview["splits"].values()) == stored == 42
    assert overview["build"]["present"] is False and overview["pairs"]["derived"] is True


def test_damaged_parquet_file_is_named_and_other_files_read(
    dataset_copy: Path, tmp_path: Path
) -> None:
    damaged = DatasetFolder(dataset_copy).data_files("samples", "train")[0]
    damaged.write_bytes(b"PAR1 not really")
    result = build_report(ReportConfig(source=str(dataset_copy), out=str(tmp_path / "site")))
    assert len(result.problems) == 1
    assert f"samples/{damaged.name} is not a readable parquet file" in str(result.problems[0])
    assert 0 < result.samples < 42


def test_damaged_eval_results_are_reported_and_good_ones_shown(
    dataset_copy: Path, tmp_path: Path
) -> None:
    (dataset_copy / "eval_results.json").write_text("{not json")
    bad = build_report(ReportConfig(source=str(dataset_copy), out=str(tmp_path / "a")))
    assert len(bad.problems) == 1 and "eval_results.json could not be read" in str(bad.problems[0])
    results = {
        "format_version": 3,
        "settings": {"metrics": ["dsr"], "seed": 0},
        "overall": {
            "correct@0.7": {"value": 0.4, "ci": [0.3, 0.5], "n": 42},
            "mean_dsr_score": {"mean": 0.61, "ci_low": 0.55, "ci_high": 0.66},
            "n_samples": 24,
        },
        "per_type": {"LT": {"correct@0.7": 0.5}},
    }
    (dataset_copy / "eval_results.json").write_text(json.dumps(results))
    good = build_report(ReportConfig(source=str(dataset_copy), out=str(tmp_path / "a")))
    assert good.problems == []
    shown = js_data(tmp_path / "a" / "data" / "overview.js", "overview")["eval"]
    row = {"low": None, "high": None, "n": None, "integer": False}
    assert shown["layout"] == "other" and shown["metrics"] == [
        row | {"name": "overall / correct@0.7", "value": 0.4, "low": 0.3, "high": 0.5, "n": 42},
        row | {"name": "overall / mean_dsr_score", "value": 0.61, "low": 0.55, "high": 0.66},
        row | {"name": "overall / n_samples", "value": 24, "integer": True},
        row | {"name": "per_type / LT / correct@0.7", "value": 0.5},
    ]
    assert json.loads((tmp_path / "a" / shown["raw"]).read_text()) == results


def test_eval_rows_ignore_flags_and_text() -> None:
    rows = metric_rows(
        {"model": "wan", "ok": True, "score": {"value": float("nan")}, "x": {"estimate": 2}}
    )
    assert [(r.name, r.value) for r in rows] == [("x", 2.0)]


def test_unknown_source_and_unknown_split(dataset: Path, tmp_path: Path) -> None:
    code, _, err = _run("./no/such/folder", "--out", str(tmp_path / "a"))
    assert code == 1 and err.startswith("Error: ./no/such/folder is not a dataset folder")
    result = build_report(
        ReportConfig(source=str(dataset), out=str(tmp_path / "b"), splits=("validation",))
    )
    assert "has no split 'validation' (it has train, test)" in str(result.problems[0])
    with pytest.raises(DataError):
        build_report(ReportConfig(source="a/b/c", out=str(tmp_path / "c")))


def test_hub_dataset_at_a_tag_is_downloaded_and_reported(
    dataset: Path, hub: object, hub_token: str, tmp_path: Path
) -> None:
    from dsr.hub import push_folder

    sha = push_folder(dataset, "tester/report-ds", version="v1.0.0")
    code, out, err = _run(
        "tester/report-ds@v1.0.0", "--out", str(tmp_path / "site"), "--split", "test"
    )
    assert code == 0 and err == ""
    overview = js_data(tmp_path / "site" / "data" / "overview.js", "overview")
    assert (
        overview["source"]["label"] == "tester/report-ds@v1.0.0"
        and overview["source"]["commit"] == sha
    )
    assert list(overview["splits"]) == ["test"] and overview["splits"]["test"]["samples"] == 12
    assert len(list((tmp_path / "site" / "videos").glob("*.mp4"))) == 12
    code, _, err = _run("tester/report-ds@v9.9.9", "--out", str(tmp_path / "other"))
    assert code == 1 and "has no revision 'v9.9.9'" in err


def test_format_1_rows_null_boxes_and_no_flags_read_row_by_row(
    dataset_copy: Path, tmp_path: Path
) -> None:
    """A file written before format 2 (an absent box is null, no presence flags) still reports."""
    path = DatasetFolder(dataset_copy).data_files("samples", "train")[0]
    rows = pq.read_table(path).to_pylist()
    for row in rows:
        for who in ("animal", "object"):
            row[f"{who}_boxes"] = [
                None if any(v != v for v in b) else b for b in row[f"{who}_boxes"]
            ]
            del row[f"{who}_present"]
    pq.write_table(pa.Table.from_pylist(rows), path)
    result = build_report(ReportConfig(source=str(dataset_copy), out=str(tmp_path / "site")))
    assert result.problems == [] and result.samples == 42
    nulls = 0
    for row in rows:
        page = sample_data(tmp_path / "site", row["sample_id"])
        for shown, stored in zip(page["animal_boxes"], row["animal_boxes"], strict=True):
            assert (shown is None) == (stored is None)
            nulls += stored is None
    assert nulls > 0


def test_per_sample_values_of_an_eval_config_appear_on_sample_pages(
    dataset_copy: Path, tmp_path: Path
) -> None:
    import datasets

    rows = [
        {
            "sample_id": "train-000__seed00",
            "prompt_id": "train-000",
            "split": "train",
            "id_consistency": 0.91,
            "clip_iqa": 0.5,
            "weights": "clip-vit",
        }
    ]
    DatasetFolder(dataset_copy).write_config(
        "eval",
        {"train": datasets.Dataset.from_list(rows)},
        ConfigRecord(description="per-sample eval values", columns={}),
    )
    result = build_report(ReportConfig(source=str(dataset_copy), out=str(tmp_path / "site")))
    assert result.problems == []
    assert sample_data(tmp_path / "site", "train-000__seed00")["eval"] == {
        "id_consistency": 0.91,
        "clip_iqa": 0.5,
    }
    assert sample_data(tmp_path / "site", "train-000__seed01")["eval"] == {}
