"""``dsr score`` on inputs that are not tracks (binary, not UTF-8, corrupt parquet, a large file of
garbage) and its output formats: one line and nothing written for the first, CSV that reads back
for ``--out x.csv``, and a refused suffix otherwise."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from dsr.cli import main

ANIMAL = [[0, 0, 10, 10]] * 40
LEFT_THEN_RIGHT = [[20, 0, 30, 10]] * 20 + [[-20, 0, -10, 10]] * 20
ROW = {
    "sample_id": "s1",
    "seed": 4,
    "initial": "left",
    "final": "right",
    "animal_boxes": ANIMAL,
    "object_boxes": LEFT_THEN_RIGHT,
}


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, ["score", *args])


def _one_line(result: Result, *needles: str) -> None:
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    for needle in needles:
        assert needle in lines[0], lines[0]


def _no_output(folder: Path, keep: Path) -> None:
    assert [p for p in folder.iterdir() if p != keep] == []


@pytest.mark.parametrize(
    ("name", "data", "needle"),
    [
        (
            "t.jsonl",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10,
            "is a binary file, not a JSONL tracks file",
        ),
        (
            "t.jsonl",
            ('{"sample_id": "caf\u00e9"}\n').encode("latin-1"),
            "not UTF-8 text (byte 0xe9 at line 1)",
        ),
        (
            "t.jsonl",
            b"PAR1" + b"\x00" * 64,
            "is a parquet file, not a JSONL tracks file: name it *.parquet",
        ),
        ("t.parquet", b"PAR1 this is not really parquet PAR1", "is not a readable parquet file"),
    ],
)
def test_unreadable_input_is_one_line_and_writes_nothing(
    tmp_path: Path, name: str, data: bytes, needle: str
) -> None:
    src = tmp_path / name
    src.write_bytes(data)
    _one_line(_run(str(src)), str(src), needle)
    _no_output(tmp_path, src)


def test_truncated_parquet_is_named(tmp_path: Path) -> None:
    src = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pylist([ROW] * 50), src)
    src.write_bytes(src.read_bytes()[:-100])
    _one_line(_run(str(src)), f"{src} is not a readable parquet file", "write it again")
    _no_output(tmp_path, src)


def test_large_garbage_stops_after_the_error_limit_with_a_summary(tmp_path: Path) -> None:
    src = tmp_path / "big.jsonl"
    src.write_text("".join(f"garbage line {i}\n" for i in range(100_000)))
    result = _run(str(src), "--max-errors", "20")
    _one_line(
        result,
        "stopped after 21 malformed rows of the first 21 read (0 well-formed), nothing written",
        "row 1: not valid JSON",
        "raise --max-errors",
    )
    _no_output(tmp_path, src)


def test_a_bad_line_early_refuses_the_file_and_one_later_is_a_row_error(tmp_path: Path) -> None:
    good = json.dumps(ROW).encode() + b"\n"
    early = tmp_path / "early.jsonl"
    early.write_bytes(good + b"\xff\xfe broken\n" + good)
    _one_line(_run(str(early)), "not UTF-8 text (byte 0xff at line 2)")
    late = tmp_path / "late.jsonl"
    n_good = 70_000 // len(good) + 1  # past the 64 KiB the file type is judged on
    late.write_bytes(good * n_good + b"\xff\xfe broken\n" + good)
    result = _run(str(late), "--out", str(tmp_path / "s.jsonl"))
    assert result.exit_code == 2
    assert f"Error: row {n_good + 1}: not UTF-8 text (byte 0xff at column 1)" in result.stderr
    assert len((tmp_path / "s.jsonl").read_text().splitlines()) == n_good + 1


def test_csv_output_is_csv(tmp_path: Path) -> None:
    src = tmp_path / "t.jsonl"
    src.write_text(
        json.dumps(ROW)
        + "\n"
        + json.dumps({**ROW, "sample_id": "s2", "animal_boxes": ANIMAL[:5] + [None] * 35})
        + "\n"
    )
    out = tmp_path / "scores.csv"
    result = _run(str(src), "--out", str(out))
    assert result.exit_code == 0, result.output
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["sample_id"] for r in rows] == ["s1", "s2"]
    assert float(rows[0]["dsr_score"]) == 1.0 and rows[0]["seed"] == "4"
    assert rows[1]["dsr_score"] == "" and rows[1]["reason"] == "too_few_frames"
    ssr = json.loads(rows[0]["ssr_initial"])
    assert len(ssr) == 40 and ssr[0] == 1.0 and ssr[-1] == -1.0  # left first, right last
    assert (tmp_path / "scores.correctness.json").is_file()


@pytest.mark.parametrize("name", ["x.json", "x.txt", "x"])
def test_other_output_suffixes_are_refused_before_reading(tmp_path: Path, name: str) -> None:
    src = tmp_path / "t.jsonl"
    src.write_text(json.dumps(ROW) + "\n")
    _one_line(_run(str(src), "--out", str(tmp_path / name)), "name it *.jsonl, *.parquet, *.csv")
    _no_output(tmp_path, src)
