"""Dataset builders: the `prompts`, `samples` and `pairs` configs of one versioned dataset folder.

Names are imported lazily, so ``import dsr.builders`` stays cheap; the heavy libraries load when a
builder is first used.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "PAIR_COLUMNS",
    "PROMPT_COLUMNS",
    "SAMPLE_COLUMNS",
    "TRACK_COLUMNS",
    "ConfigRecord",
    "DatasetFolder",
    "PromptBuildConfig",
    "ScoreVideosConfig",
    "VideoBuildConfig",
    "build_prompts",
    "build_sample",
    "build_videos",
    "consolidate",
    "make_pairs",
    "score_videos",
]

_WHERE = {
    "PROMPT_COLUMNS": "prompts",
    "PromptBuildConfig": "prompts",
    "build_prompts": "prompts",
    "SAMPLE_COLUMNS": "samples",
    "build_sample": "samples",
    "ConfigRecord": "folder",
    "DatasetFolder": "folder",
    "VideoBuildConfig": "videos",
    "build_videos": "videos",
    "consolidate": "consolidate",
    "TRACK_COLUMNS": "consolidate",
    "make_pairs": "pairs",
    "PAIR_COLUMNS": "pairs",
    "ScoreVideosConfig": "score_videos",
    "score_videos": "score_videos",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'dsr.builders' has no attribute {name!r}")
    return getattr(importlib.import_module(f"dsr.builders.{_WHERE[name]}"), name)
