"""The data written for the pages, checked against the stored rows (read here with pyarrow, and
the expectations computed here in plain Python)."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from _report_helpers import stored_rows

from dsr.report.layout import file_key


def js_data(path: Path, target: str) -> Any:
    """The JSON a report data script assigns to ``DSR_DATA.<target>``."""
    text = path.read_text(encoding="utf-8")
    marker = f"DSR_DATA.{target}="
    body = text[text.index(marker) + len(marker) :].rstrip()
    assert body.endswith(";")
    return json.loads(body[:-1])


def sample_data(report: Path, sample_id: str) -> dict[str, Any]:
    key = file_key(sample_id)
    return js_data(report / "data" / "samples" / f"{key}.js", f'samples["{key}"]')


def _close(a: float | None, b: float | None, tol: float) -> bool:
    missing_b = b is None or (isinstance(b, float) and math.isnan(b))
    return (a is None) == missing_b and (a is None or abs(a - b) <= tol)


def test_boxes_per_frame_are_the_stored_boxes_and_absent_where_flagged(
    report: Path, dataset: Path
) -> None:
    absent_seen = 0
    for row in stored_rows(dataset):
        page = sample_data(report, row["sample_id"])
        for who in ("animal", "object"):
            boxes, present = row[f"{who}_boxes"], row[f"{who}_present"]
            assert len(page[f"{who}_boxes"]) == len(boxes) == row["num_frames"]
            for shown, stored, flag in zip(page[f"{who}_boxes"], boxes, present, strict=True):
                if not flag:
                    assert shown is None and all(math.isnan(v) for v in stored)
                    absent_seen += 1
                else:
                    assert all(abs(s - v) <= 0.005 for s, v in zip(shown, stored, strict=True))
    assert absent_seen > 0  # the hidden_briefly and flicker samples lose their animal for a while


def test_curves_classes_detections_and_scores_are_the_stored_ones(
    report: Path, dataset: Path
) -> None:
    letters = {"valid": "v", "miss": "m", "redundant": "r"}
    for row in stored_rows(dataset):
        page = sample_data(report, row["sample_id"])
        for name in ("ssr_initial", "ssr_final"):
            assert len(page[name]) == len(row[name])
            assert all(_close(a, b, 1e-6) for a, b in zip(page[name], row[name], strict=True))
        assert page["classes"] == "".join(letters[c] for c in row["frame_classes"])
        dets = page["detections"]
        assert dets["offsets"] == [
            sum(len(f) for f in row["detections"][:i]) for i in range(len(row["detections"]) + 1)
        ]
        stored = [d for frame in row["detections"] for d in frame]
        assert dets["labels"] == [d["label"] for d in stored]
        assert dets["scores"] == pytest.approx([d["score"] for d in stored], abs=1e-4)
        for box, d in zip(dets["boxes"], stored, strict=True):
            assert box == pytest.approx(d["box"], abs=0.005)
        for key, stored in (
            ("dsr_score", "dsr_score"),
            ("r_init", "r_init"),
            ("r_final", "r_final"),
            ("g_init", "g_init"),
            ("g_final", "g_final"),
        ):
            assert _close(page["scores"][key], row[stored], 1e-6)
        assert page["key_frame"] == row["key_frame"] and page["valid"] == row["valid"]
        assert page["fields"]["prompt"] == row["prompt"] and page["reason"] == row["reason"]
        assert page["video"] == f"videos/{file_key(row['sample_id'])}.mp4"
        assert (report / page["video"]).is_file()


def _index(report: Path) -> list[dict[str, Any]]:
    index = js_data(report / "data" / "index.js", "index")
    return [dict(zip(index["columns"], r, strict=True)) for r in index["rows"]]


def test_index_holds_every_sample_with_what_the_filters_need(report: Path, dataset: Path) -> None:
    rows = {r["sample_id"]: r for r in stored_rows(dataset)}
    entries = _index(report)
    assert sorted(e["id"] for e in entries) == sorted(rows)
    pairs = stored_rows(dataset, "pairs")
    winners = {s for p in pairs for s in p["chosen_ids"]}
    losers = {s for p in pairs for s in p["rejected_ids"]}
    assert winners and losers
    for e in entries:
        row = rows[e["id"]]
        assert (e["split"], e["type"], e["animal"], e["object"]) == (
            row["split"],
            row["dsr_type"],
            row["animal"],
            row["object"],
        )
        assert bool(e["valid"]) == row["valid"] and e["reason"] == row["reason"]
        assert _close(e["score"], row["dsr_score"], 1e-6)
        assert e["role"] == (
            "winner" if e["id"] in winners else "loser" if e["id"] in losers else None
        )
        assert e["video"] == 1
    invalid = Counter(r["reason"] for r in rows.values() if not r["valid"])
    assert Counter(e["reason"] for e in entries if not e["valid"]) == invalid
    assert set(invalid) == {"too_many_redundant", "no_valid_run"}


def test_index_lists_train_then_test_each_by_prompt_and_seed(report: Path) -> None:
    entries = _index(report)
    keys = [(e["split"] != "train", e["prompt_id"], e["seed"]) for e in entries]
    assert (
        keys == sorted(keys) and entries[0]["split"] == "train" and entries[-1]["split"] == "test"
    )


def test_overview_curves_histogram_and_validity_match_the_rows(report: Path, dataset: Path) -> None:
    overview = js_data(report / "data" / "overview.js", "overview")
    rows = stored_rows(dataset)
    assert list(overview["splits"]) == ["train", "test"]
    for split, summary in overview["splits"].items():
        part = [r for r in rows if r["split"] == split]
        scores = [r["dsr_score"] for r in part if r["valid"]]
        expected_curve = [
            sum(1 for s in scores if s >= k / 10 - 1e-12) / len(part) for k in range(10)
        ]
        assert summary["curve"] == pytest.approx(expected_curve)
        assert summary["correct_0.7"] == pytest.approx(
            sum(1 for s in scores if s >= 0.7) / len(part)
        )
        expected_hist = [
            sum(1 for s in scores if b / 20 <= s < (b + 1) / 20 or (b == 19 and s == 1.0))
            for b in range(20)
        ]
        assert summary["histogram"] == expected_hist
        reasons = Counter(r["reason"] for r in part if not r["valid"])
        assert summary["validity"] == {"valid": len(scores), **reasons}
        for dsr_type, per in overview["per_type"][split].items():
            typed = [r for r in part if r["dsr_type"] == dsr_type]
            assert per["samples"] == len(typed)
            assert per["correct_0.7"] == pytest.approx(
                sum(1 for r in typed if r["valid"] and r["dsr_score"] >= 0.7) / len(typed)
            )
    record = json.loads((dataset / "dsr_build.json").read_text())
    assert overview["pairs"]["counts"] == record["configs"]["pairs"]["counts"]["prompts"]
    assert (
        overview["build"]["command"] == "pytest"
        and overview["build"]["dsr_version"] == record["dsr_version"]
    )
    assert overview["problems"] == [] and overview["eval"]["layout"] == "dsr-eval"


def test_pair_entries_list_the_stored_winners_and_losers(report: Path, dataset: Path) -> None:
    pairs = js_data(report / "data" / "pairs.js", "pairs")
    stored = {(p["split"], p["prompt_id"]): p for p in stored_rows(dataset, "pairs")}
    assert len(pairs) == len(stored) > 0
    for entry in pairs:
        row = stored[(entry["split"], entry["prompt_id"])]
        assert [m["id"] for m in entry["winners"]] == row["chosen_ids"]
        assert [m["id"] for m in entry["losers"]] == row["rejected_ids"]
        assert [m["score"] for m in entry["winners"]] == pytest.approx(row["chosen_scores"])
        assert entry["missing"] == []


def test_written_files_name_no_local_directory(report: Path, dataset: Path) -> None:
    for path in report.rglob("*"):
        if path.is_file() and path.suffix in (".js", ".html", ".json", ".css"):
            text = path.read_text(encoding="utf-8")
            assert str(dataset) not in text and str(report) not in text and "/tmp/" not in text, (
                path
            )


def test_file_keys_are_safe_and_distinct() -> None:
    ids = ["train-000__seed00", "a/b c", "a_b c", "über", "../x", "x" * 300, ".hidden"]
    keys = [file_key(i) for i in ids]
    assert keys[0] == ids[0]
    assert len(set(keys)) == len(keys)
    assert all(k and "/" not in k and not k.startswith(".") and len(k) <= 100 for k in keys)


def test_dataset_card_says_how_to_make_the_report(dataset: Path) -> None:
    card = (dataset / "README.md").read_text(encoding="utf-8")
    assert "dsr report path/to/this/folder --out report" in card
