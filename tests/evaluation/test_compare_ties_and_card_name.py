"""``dsr eval compare`` marks every tied best model; ``--model-card`` names the model-index entry
after the adapter, and a second evaluation rewrites the section and the name together."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
from click.testing import CliRunner
from markup import details_closed

from dsr.cli import main


def _evaluation(folder: Path, name: str, scores: list[float]) -> Path:
    """A finished evaluation folder of four prompts × one seed with these DSR-Scores (all valid)."""
    folder.mkdir(parents=True)
    rows = [
        {"prompt_id": f"p{i}", "seed": 0, "valid": True, "dsr_score": s, "dsr_type": "LR"}
        for i, s in enumerate(scores)
    ]
    pl.DataFrame(rows).write_parquet(folder / "per_sample.parquet")
    correct = sum(s >= 0.7 for s in scores) / len(scores)
    mean = sum(scores) / len(scores)
    results = {
        "model": {
            "name": name,
            "dataset": {"local_folder": "ds", "config": "samples", "split": "test"},
        },
        "settings": {"bootstrap": {"level": 0.95, "n_resamples": 100}},
        "summary": {
            "n_samples": len(scores),
            "n_prompts": len(scores),
            "n_valid": len(scores),
            "validity_rate": 1.0,
            "correctness": {"0.0": 1.0, "0.7": correct},
        },
        "metrics": {
            "correct@0.7": {"estimate": correct, "low": 0.0, "high": 1.0, "level": 0.95},
            "mean_dsr_score": {"estimate": mean, "low": 0.0, "high": 1.0, "level": 0.95},
        },
        "per_type": {},
    }
    (folder / "eval_results.json").write_text(json.dumps(results))
    return folder


def test_every_tied_best_is_marked(tmp_path: Path) -> None:
    a = _evaluation(tmp_path / "a", "base", [0.9, 0.9, 0.1, 0.1])  # Correct@0.7 = 0.5
    b = _evaluation(tmp_path / "b", "lora", [0.8, 0.1, 0.8, 0.1])  # 0.5 too: a tie
    c = _evaluation(tmp_path / "c", "other", [0.8, 0.1, 0.1, 0.1])  # 0.25
    out = tmp_path / "cmp"
    args = ["eval", "compare", str(a), str(b), str(c), "--out", str(out), "--n-resamples", "50"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "comparison.json").read_text())["best"]["correct@0.7"] == [0, 1]
    rows = {r["model"]: r["best_in"] for r in csv.DictReader((out / "comparison.csv").open())}
    assert "correct@0.7" in rows["base"] and "correct@0.7" in rows["lora"]
    assert "correct@0.7" not in rows["other"]
    table = {
        line.split("|")[1].strip(): line.split("|")[2]
        for line in (out / "comparison.md").read_text().splitlines()
        if line.startswith("| ") and "→" not in line
    }
    assert "**" in table["base"] and "**" in table["lora"] and "**" not in table["other"]


def test_model_card_names_the_adapter_and_follows_the_latest_eval(tmp_path: Path) -> None:
    from huggingface_hub import ModelCard

    from dsr.evaluation.model_card import write_model_card

    adapter = tmp_path / "wan-spatialalign"
    adapter.mkdir()
    (adapter / "README.md").write_text("---\nlibrary_name: diffusers\n---\n\n# My adapter\n")
    first = _evaluation(tmp_path / "e1", "data-one", [0.9, 0.9, 0.1, 0.1])
    write_model_card(str(adapter), json.loads((first / "eval_results.json").read_text()))
    card = ModelCard.load(adapter / "README.md")
    assert card.data.model_name == "wan-spatialalign"  # the model, not the dataset "data-one"
    assert "data-one" not in card.content.split("---", 2)[1]
    second = _evaluation(tmp_path / "e2", "data-two", [0.9, 0.9, 0.9, 0.1])
    results = json.loads((second / "eval_results.json").read_text())
    write_model_card(str(adapter), results, model_name="Wan2.1 + SpatialAlign")
    card = ModelCard.load(adapter / "README.md")
    assert card.data.model_name == "Wan2.1 + SpatialAlign"
    section = card.text.split("<!-- dsr-eval:start -->")[1].split("<!-- dsr-eval:end -->")[0]
    assert card.text.count("<!-- dsr-eval:start -->") == 1
    assert "Wan2.1 + SpatialAlign" in section and "0.750" in section and "0.500" not in section
    details_closed(card.content)
