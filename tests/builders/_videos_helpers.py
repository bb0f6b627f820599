"""Shared helpers of the build-videos tests: a small prompts folder and a tiny synthetic config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dsr.builders.folder import ConfigRecord, DatasetFolder
from dsr.prompts import DSRPrompt, DSRType

#: Tiny videos: 32 frames (enough for the flicker case to give no_valid_run) of 64×96.
TINY = {"num_frames": 32, "height": 64, "width": 96, "fps": 8}
ANIMALS = ("fox", "cat", "duck", "rabbit", "dog", "bird")
OBJECTS = ("stump", "rock", "bench", "crate", "sofa", "basket")


def prompt_records(n: int = 6, split: str = "train") -> list[dict[str, Any]]:
    """``n`` prompts cycling through the six DSR types."""
    rows = []
    for i in range(n):
        t = list(DSRType)[i % 6]
        p = DSRPrompt(
            "In a quiet park", ANIMALS[i % 6], OBJECTS[i % 6], t.initial, t.final, "walks"
        )
        rows.append(
            {
                **p.to_dict(),
                "prompt_id": f"{split}-{i:03d}",
                "split": split,
                "dsr_letter": t.letter,
                "source": "test",
            }
        )
    return rows


def write_prompts(root: Path, rows: list[dict[str, Any]], split: str = "train") -> Path:
    import datasets

    DatasetFolder(root).write_config(
        "prompts",
        {split: datasets.Dataset.from_list(rows)},
        ConfigRecord(description="test prompts", columns={}),
    )
    return root
