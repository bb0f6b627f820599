"""Published cards render as the Hub shows them: every collapsible section closes, and local paths
are masked in the values the card is made from, never in its markup."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
from markup import details_closed

from dsr.builders.folder import BUILD_RECORD, CARD, ConfigRecord, DatasetFolder


def _record(root: Path) -> ConfigRecord:
    return ConfigRecord(
        description="Numbers.",
        columns={"a": "a number"},
        counts={"kept": 2},
        command=f"dsr build-prompts --out {root} --input /home/me/lists/eval120.csv",
        settings={"detector": "/home/me/models/gdino", "out": str(root / "sub")},
    )


def test_dataset_card_sections_close_and_paths_are_masked(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    folder = DatasetFolder(root)
    rows = {"train": datasets.Dataset.from_dict({"a": [1, 2]})}
    folder.write_config("prompts", rows, _record(root))
    card = (root / CARD).read_text(encoding="utf-8")
    assert details_closed(card) == 4  # counts and settings: a <details> with its <summary> each
    assert "--out . --input …/eval120.csv" in card
    assert "/home/me" not in card and str(tmp_path) not in card
    record = json.loads((root / BUILD_RECORD).read_text(encoding="utf-8"))
    assert record["configs"]["prompts"]["settings"] == {"detector": "…/gdino", "out": "sub"}


def test_pushed_dataset_card_sections_close(tmp_path: Path) -> None:
    from dsr.hub import _stage

    root = tmp_path / "ds"
    folder = DatasetFolder(root)
    rows = {"train": datasets.Dataset.from_dict({"a": [1, 2]})}
    folder.write_config("prompts", rows, _record(root))
    staging = _stage(folder, folder.read_record(), ["prompts"], "you/ds", "v1.0.0")
    card = (staging / CARD).read_text(encoding="utf-8")
    assert details_closed(card) == 4 and "/home/me" not in card


def test_dataset_card_cites_the_paper_and_says_how_it_was_built(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    folder = DatasetFolder(root)
    rows = {"train": datasets.Dataset.from_dict({"a": [1, 2]})}
    folder.write_config("prompts", rows, _record(root))
    later = ConfigRecord(
        description="More.", columns={}, command=f"dsr build-videos --prompts {root} --out {root}"
    )
    folder.write_config("pairs", rows, later)
    folder.write_config("samples", rows, later)
    card = (root / CARD).read_text(encoding="utf-8")
    built = card.split("## How it was built", 1)[1].split("## Configs", 1)[0]
    commands = [line for line in built.splitlines() if line.startswith(("pip ", "dsr "))]
    assert commands == [
        "pip install spatialalign==" + json.loads((root / BUILD_RECORD).read_text())["dsr_version"],
        "dsr build-prompts --out . --input …/eval120.csv",
        "dsr build-videos --prompts . --out .",  # once, for both configs it wrote
    ]
    assert "# writes `samples`, `pairs`" in built
    assert "arxiv.org/abs/2602.22745" in card and "github.com/fengming001ntu/SpatialAlign" in card
    bibtex = card.split("```bibtex\n", 1)[1].split("```", 1)[0]
    assert bibtex.startswith("@misc{") and "eprint        = {2602.22745}" in bibtex
    details_closed(card)
