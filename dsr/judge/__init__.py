"""The VLM-judge baseline (paper §3.5, docs/method.md §7): any OpenAI-compatible vision model
answers the paper's two yes/no questions about every sample; the answers are compared with the
DSR-Score (Figure 4, reliability table) and can become VLM-derived preference pairs (``pairs-vlm``).

Names are imported lazily, so ``import dsr.judge`` (and ``dsr judge --help``) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "FrameEncoding",
    "JudgeAnalysis",
    "JudgeConfig",
    "JudgeOptions",
    "JudgeResult",
    "Question",
    "analyze",
    "frame_indices",
    "judge",
    "parse_answer",
    "questions_for",
    "vlm_pairs",
]

_WHERE = {
    "FrameEncoding": "frames",
    "frame_indices": "frames",
    "JudgeAnalysis": "analysis",
    "analyze": "analysis",
    "JudgeConfig": "config",
    "JudgeOptions": "config",
    "JudgeResult": "run",
    "judge": "run",
    "Question": "questions",
    "parse_answer": "questions",
    "questions_for": "questions",
    "vlm_pairs": "pairs_vlm",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'dsr.judge' has no attribute {name!r}")
    return getattr(importlib.import_module(f"dsr.judge.{_WHERE[name]}"), name)
