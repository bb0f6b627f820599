"""The evaluation section of the report (the paper's Table 2, per type, the curve with its band,
validity), checked against the stored rows with the expectations computed here in plain Python,
and the progress bar of ``dsr report``."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from _report_helpers import stored_rows
from test_report_data import js_data

from dsr.evaluation.bootstrap import Ratio, bootstrap_interval
from dsr.report import ReportConfig, build_report
from dsr.report.eval_results import eval_view

PAPER_ORDER = ["LT", "TL", "RT", "LR", "TR", "RL"]


def _reference_interval(rows: list[dict[str, Any]], values: list[float | None]) -> list[float]:
    """The interval the evaluation's bootstrap gives for these per-sample values (1,000
    resamples of the prompts, seed 0, 95 %)."""
    found = bootstrap_interval(
        Ratio.of([r["prompt_id"] for r in rows], values), n_resamples=1000, level=0.95, seed=0
    )
    return [found.low, found.high]


def test_eval_section_is_table2_per_type_curve_band_and_validity(
    report: Path, dataset: Path, evaluation: Path
) -> None:
    rows = [r for r in stored_rows(dataset) if r["split"] == "train"]
    view = js_data(report / "data" / "overview.js", "overview")["eval"]
    assert view["layout"] == "dsr-eval" and view["has_rows"]
    scores = [r["dsr_score"] if r["valid"] else None for r in rows]
    valid = [s for s in scores if s is not None]
    table = {c["key"]: c for c in view["table"]}
    assert list(table)[:3] == ["correct@0.7", "mean_dsr_score", "id_consistency"]
    correct = table["correct@0.7"]
    assert correct["estimate"] == pytest.approx(sum(s >= 0.7 for s in valid) / len(rows))
    assert (correct["n"], correct["unit"]) == (30, "samples")
    mean = table["mean_dsr_score"]
    assert mean["estimate"] == pytest.approx(sum(valid) / len(valid))
    assert (mean["n"], mean["unit"]) == (len(valid), "valid samples")
    assert [mean["low"], mean["high"]] == pytest.approx(_reference_interval(rows, scores))
    assert not table["id_consistency"]["present"] and "id" in table["id_consistency"]["how"]

    assert [t["type"] for t in view["types"]["rows"]] == PAPER_ORDER
    lt = view["types"]["rows"][0]
    lt_rows = [r for r in rows if r["dsr_type"] == "LT"]
    assert (lt["name"], lt["samples"], lt["valid"]) == (
        "left → top",
        len(lt_rows),
        sum(r["valid"] for r in lt_rows),
    )
    assert isinstance(lt["samples"], int) and isinstance(lt["valid"], int)
    passed = [float(r["valid"] and r["dsr_score"] >= 0.7) for r in lt_rows]
    cell = lt["cells"]["correct@0.7"]
    assert cell["estimate"] == pytest.approx(sum(passed) / len(passed))
    assert [cell["low"], cell["high"]] == pytest.approx(_reference_interval(lt_rows, passed))

    curve = view["curve"]
    assert curve["thresholds"] == pytest.approx([i / 10 for i in range(10)])
    for i, tau in enumerate(curve["thresholds"]):
        at = [float(s is not None and s >= tau) for s in scores]
        assert curve["values"][i] == pytest.approx(sum(at) / len(at))
        assert [curve["low"][i], curve["high"][i]] == pytest.approx(_reference_interval(rows, at))
    reasons = Counter(r["reason"] for r in rows if not r["valid"])
    assert view["validity"] == {"samples": 30, "valid": len(valid), "reasons": dict(reasons)}
    raw = json.loads((report / view["raw"]).read_text())
    assert raw["metrics"] == json.loads((evaluation / "eval_results.json").read_text())["metrics"]


def _results(variant: str | None) -> dict[str, Any]:
    """eval_results.json as a newer ``dsr eval`` may write it: a variant on Correct@0.7, a metric
    this report does not know, per-type blocks in alphabetical order."""
    block = {"estimate": 0.5, "low": 0.25, "high": 0.75, "n_prompts": 2}
    per_type = {
        code: {"n_samples": 2, "n_valid": 2, "correct@0.7": 1.0, "mean_dsr_score": 0.7}
        for code in ("TL", "LT")
    }
    return {
        "format_version": 2,
        "model": {"name": "base"},
        "settings": {"bootstrap": {"n_resamples": 200, "level": 0.9, "seed": 3}},
        "summary": {
            "n_samples": 4,
            "n_valid": 4,
            "n_prompts": 2,
            "correctness": {"0.6": 1.0, "0.7": 1.0},
            "invalid_reasons": {},
        },
        "metrics": {
            "correct@0.7": {**block, "variant": variant},
            "id_consistency": {**block, "n_videos": 3, "variant": "authors"},
            "motion_smoothness": {**block, "n_videos": 4},
        },
        "per_type": per_type,
    }


def test_variants_unknown_metrics_and_the_authors_tau_are_rendered() -> None:
    rows = [
        {"prompt_id": f"p{i}", "dsr_type": t, "valid": True, "dsr_score": 0.7}
        for i, t in enumerate(("TL", "TL", "LT", "LT"))
    ]
    exact = eval_view(_results(None), rows, "data/eval_results.json")
    table = {c["key"]: c for c in exact["table"]}
    assert table["id_consistency"]["variant"] == "authors" and table["id_consistency"]["n"] == 3
    assert table["motion_smoothness"]["label"] == "motion_smoothness"
    assert table["motion_smoothness"]["n"] == 4 and table["correct@0.7"]["n"] == 4
    assert [t["type"] for t in exact["types"]["rows"]] == ["LT", "TL"]
    # a score of exactly 0.7 passes τ = 0.7, but not the authors' 0.7000000000000001
    cell = exact["types"]["rows"][0]["cells"]["correct@0.7"]
    assert (cell["low"], cell["high"]) == (1.0, 1.0)
    authors = eval_view(_results("authors"), rows, "data/eval_results.json")
    assert (authors["curve"]["low"][1], authors["curve"]["high"][1]) == (0.0, 0.0)
    assert (authors["curve"]["low"][0], authors["curve"]["high"][0]) == (1.0, 1.0)
    without = eval_view(_results(None), None, "data/eval_results.json")
    assert without["curve"]["low"] is None and not without["has_rows"]
    assert without["types"]["rows"][0]["cells"]["correct@0.7"]["low"] is None


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_report_shows_a_progress_bar_on_a_terminal(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    result = build_report(ReportConfig(source=str(dataset), out=str(tmp_path / "site")))
    assert result.samples == 42
    assert "dsr report" in terminal.getvalue() and "/84 " in terminal.getvalue()  # videos + pages
