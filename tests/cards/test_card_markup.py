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
