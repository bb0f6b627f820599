"""``dsr score`` end to end through Click's runner: JSONL and parquet, prompt text or fields,
malformed rows reported by row and field while the others are scored, --plot PNGs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from dsr.cli import main
from dsr.scoring.tracks import read_tracks, score_rows

LEFT_OBJ, RIGHT_OBJ = [20, 0, 30, 10], [-20, 0, -10, 10]  # animal [0,0,10,10] is LEFT / RIGHT of it
ANIMAL = [[0, 0, 10, 10]] * 40
LEFT_THEN_RIGHT = [LEFT_OBJ] * 20 + [RIGHT_OBJ] * 20


def _rows() -> list[dict[str, Any]]:
    return [
        {
            "sample_id": "by-fields",
            "initial": "left",
            "final": "right",
            "animal_boxes": ANIMAL,
            "object_boxes": LEFT_THEN_RIGHT,
        },
        {
            "sample_id": "by-prompt",
            "prompt": "a fox sprints from the right of a chair to the left of the chair",
            "animal_boxes": ANIMAL,
            "object_boxes": LEFT_THEN_RIGHT,
        },
        {
            "sample_id": "short/track",
            "seed": 3,
            "initial": "left",
            "final": "top",
            "animal_boxes": [None] * 30 + ANIMAL[:10],
            "object_boxes": LEFT_THEN_RIGHT,
        },
        {
            "sample_id": "tracker-invalid",
            "valid": False,
            "reason": "no_valid_run",
            "initial": "left",
            "final": "right",
            "animal_boxes": ANIMAL,
            "object_boxes": LEFT_THEN_RIGHT,
        },
    ]


def _write_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    keys = list(
        dict.fromkeys(k for row in rows for k in row)
    )  # from_pylist keeps row 1's keys only
    pq.write_table(pa.Table.from_pylist([{k: row.get(k) for k in keys} for row in rows]), path)
    return path


def _write_jsonl(path: Path, rows: list[Any], extra_lines: list[str] = ()) -> Path:
    lines = [json.dumps(r) for r in rows] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, ["score", *args])


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_jsonl_tracks_are_scored_and_the_curve_written(tmp_path: Path) -> None:
    tracks = _write_jsonl(tmp_path / "tracks.jsonl", _rows())
    result = _run(str(tracks))
    assert result.exit_code == 0, result.output
    out = _read_jsonl(tmp_path / "tracks.scores.jsonl")
    by_id = {r["sample_id"]: r for r in out}
    assert by_id["by-fields"]["dsr_score"] == 1.0
    assert by_id["by-prompt"]["dsr_score"] == 0.0
    assert (by_id["by-prompt"]["initial"], by_id["by-prompt"]["final"]) == ("right", "left")
    short = by_id["short/track"]
    assert short["dsr_score"] is None and short["reason"] == "too_few_frames" and short["seed"] == 3
    assert short["n_frames"] == 10 and short["ssr_initial"][0] is None
    invalid = by_id["tracker-invalid"]
    assert (invalid["dsr_score"], invalid["valid"], invalid["reason"]) == (
        None,
        False,
        "no_valid_run",
    )
    curve = json.loads((tmp_path / "tracks.scores.correctness.json").read_text())
    assert curve["n_samples"] == 4 and curve["n_invalid"] == 2
    assert curve["correctness"][0] == 0.5  # by-prompt's 0.0 counts at τ = 0; invalid ones fail
    assert curve["correctness"][1] == 0.25
    assert "scored 4 samples (2 invalid)" in result.output and "correct" in result.output


def test_malformed_rows_are_reported_and_the_rest_scored(tmp_path: Path) -> None:
    good = _rows()[0]
    bad_box = {**good, "animal_boxes": ANIMAL[:2] + [[1, 2, 3]] + ANIMAL[3:]}
    no_final = {k: v for k, v in good.items() if k != "final"}
    bad_prompt = {**_rows()[1], "prompt": "a cat sleeps on a sofa"}
    bad_relation = {**good, "initial": "inside"}
    same_relation = {**good, "final": "left"}
    lengths = {**good, "object_boxes": LEFT_THEN_RIGHT[:-1]}
    no_boxes = {k: v for k, v in good.items() if k != "object_boxes"}
    text_value = {**good, "animal_boxes": [[0, 0, "ten", 10]] * 40}
    rows = [
        good,
        bad_box,
        no_final,
        bad_prompt,
        bad_relation,
        same_relation,
        lengths,
        no_boxes,
        text_value,
    ]
    tracks = _write_jsonl(tmp_path / "t.jsonl", rows, ["{not json", "[1, 2]", json.dumps(good)])
    out = tmp_path / "scores.jsonl"
    result = _run(str(tracks), "--out", str(out))
    assert result.exit_code == 2
    scored = _read_jsonl(out)
    assert [r["dsr_score"] for r in scored] == [1.0, 1.0]
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    expected = [
        ("row 2", "'animal_boxes' frame 2"),
        ("row 3", "'final' is missing"),
        ("row 4", "'prompt'"),
        ("row 5", "'initial'"),
        ("row 6", "'final'"),
        ("row 7", "'animal_boxes' has 40 frames but 'object_boxes' 39"),
        ("row 8", "'object_boxes'"),
        ("row 9", "'animal_boxes' frame 0 has a non-numeric value"),
        ("row 10", "not valid JSON"),
        ("row 11", "expected a JSON object"),
    ]
    assert len(errors) == len(expected)
    for line, (row, field) in zip(
        sorted(errors, key=lambda e: int(e.split()[2].rstrip(":"))), expected, strict=True
    ):
        assert f"{row}:" in line and field in line, line


def test_parquet_input_and_output(tmp_path: Path) -> None:
    tracks = _write_parquet(tmp_path / "tracks.parquet", _rows()[:3])
    out = tmp_path / "scores.parquet"
    result = _run(str(tracks), "--out", str(out))
    assert result.exit_code == 0, result.output
    scored = pq.read_table(out).to_pylist()
    assert [r["dsr_score"] for r in scored] == [1.0, 0.0, None]
    assert [r["prompt"] is not None for r in scored] == [False, True, False]  # column kept
    assert scored[2]["seed"] == 3
    assert scored[2]["ssr_initial"][0] is None and len(scored[2]["ssr_initial"]) == 40


def _absent_rows() -> list[dict[str, Any]]:
    nan_box = [math.nan] * 4
    return [
        # 25 animal boxes absent as four NaN (the samples config's form): 15 usable frames < 20
        {
            "sample_id": "nan",
            "initial": "left",
            "final": "right",
            "animal_boxes": [nan_box] * 25 + ANIMAL[:15],
            "object_boxes": LEFT_THEN_RIGHT,
        },
        # finite boxes, but the object flagged absent in the RIGHT half: the 20 usable frames are
        # all LEFT, so r_init = 1, r_f = r(right) = -1, g_init = g_f = 0 → (1 - 1 + 0 + 0) / 8 + 0.5
        {
            "sample_id": "flags",
            "initial": "left",
            "final": "right",
            "animal_boxes": ANIMAL,
            "object_boxes": LEFT_THEN_RIGHT,
            "animal_present": [True] * 40,
            "object_present": [True] * 20 + [False] * 20,
        },
    ]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_nan_boxes_and_false_presence_flags_are_absent(tmp_path: Path, suffix: str) -> None:
    write = _write_parquet if suffix == ".parquet" else _write_jsonl
    tracks = write(tmp_path / f"tracks{suffix}", _absent_rows())
    out = tmp_path / "scores.jsonl"
    result = _run(str(tracks), "--out", str(out))
    assert result.exit_code == 0, result.output
    by_id = {r["sample_id"]: r for r in _read_jsonl(out)}
    assert (by_id["nan"]["dsr_score"], by_id["nan"]["reason"], by_id["nan"]["n_frames"]) == (
        None,
        "too_few_frames",
        15,
    )
    assert (by_id["flags"]["dsr_score"], by_id["flags"]["n_frames"]) == (0.5, 20)


def test_presence_flags_of_the_wrong_length_are_named(tmp_path: Path) -> None:
    row = {**_absent_rows()[1], "object_present": [True] * 39}
    report = score_rows([(1, row)])
    assert report.errors == [
        "row 1: field 'object_present' must list one flag per frame of 'object_boxes' (40)"
    ]


def test_parquet_malformed_row_is_named(tmp_path: Path) -> None:
    rows = _rows()[:2]
    rows[1] = {**rows[1], "prompt": "a fox runs from the left of a chair to the top of the sofa"}
    tracks = _write_parquet(tmp_path / "tracks.parquet", rows)
    result = _run(str(tracks))
    assert result.exit_code == 2
    assert "row 2: field 'prompt': object named differently" in result.stderr


def test_plot_writes_pngs(tmp_path: Path) -> None:
    tracks = _write_jsonl(
        tmp_path / "tracks.jsonl", _rows()[:3] + [{**_rows()[0], "sample_id": None}]
    )
    plots = tmp_path / "plots"
    result = _run(str(tracks), "--plot", str(plots))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in plots.iterdir())
    assert names == [
        "correctness.png",
        "ssr_by-fields.png",
        "ssr_by-prompt.png",
        "ssr_sample00003.png",
        "ssr_short_track.png",
    ]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in plots.iterdir())


def test_bad_option_is_a_one_line_error(tmp_path: Path) -> None:
    tracks = _write_jsonl(tmp_path / "tracks.jsonl", _rows()[:1])
    result = _run(str(tracks), "--m", "0")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: m=0 must be at least 1 (the paper uses m=3)"


def test_min_frames_option(tmp_path: Path) -> None:
    tracks = _write_jsonl(tmp_path / "tracks.jsonl", [_rows()[2]])
    out = tmp_path / "o.jsonl"
    assert _run(str(tracks), "--out", str(out), "--min-frames", "10").exit_code == 0
    assert _read_jsonl(out)[0]["valid"] is True


def test_library_reader_counts_jsonl_lines(tmp_path: Path) -> None:
    tracks = _write_jsonl(tmp_path / "t.jsonl", [_rows()[0], _rows()[1]])
    text = tracks.read_text().replace("\n", "\n\n", 1)  # a blank line after the first row
    tracks.write_text(text)
    numbers = [n for n, _ in read_tracks(tracks)]
    assert numbers == [1, 3]
    report = score_rows(list(read_tracks(tracks)))
    assert report.errors == [] and report.curve.at(0.0) == 1.0


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = _run(str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2 and "does not exist" in result.output


@pytest.mark.parametrize("args", [["--help"], ["score", "--help"]])
def test_help(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and "score" in result.output.lower()


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_a_file_without_rows_is_an_error(tmp_path: Path, content: str) -> None:
    tracks = tmp_path / "empty.jsonl"
    tracks.write_text(content)
    result = _run(str(tracks))
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert "holds no rows" in result.output and "0.000" not in result.output
    assert not (tmp_path / "empty.scores.jsonl").exists()


def test_degenerate_boxes_are_counted_in_the_row_and_the_summary(tmp_path: Path) -> None:
    flat = (
        [[0, 0, 10, 10]] * 15 + [[5, 0, 5, 10]] * 8 + [[9, 0, 2, 10]] * 2
    )  # 10 with zero or negative width
    rows = [
        {
            "sample_id": "flat",
            "initial": "left",
            "final": "right",
            "animal_boxes": flat,
            "object_boxes": [LEFT_OBJ] * 25,
        },
        {
            "sample_id": "clean",
            "initial": "left",
            "final": "right",
            "animal_boxes": ANIMAL,
            "object_boxes": LEFT_THEN_RIGHT,
        },
    ]
    result = _run(str(_write_jsonl(tmp_path / "t.jsonl", rows)))
    assert result.exit_code == 0, result.output
    out = {r["sample_id"]: r for r in _read_jsonl(tmp_path / "t.scores.jsonl")}
    assert out["flat"]["n_degenerate_frames"] == 10 and out["flat"]["n_frames"] == 15
    assert out["flat"]["reason"] == "too_few_frames"
    assert out["clean"]["n_degenerate_frames"] == 0
    assert "10 frames in 1 samples had a box with zero or negative width or height" in result.output
