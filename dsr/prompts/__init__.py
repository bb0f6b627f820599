"""DSR prompts: the record, its canonical sentence, and a strict parser."""

from __future__ import annotations

from dsr.errors import PromptParseError
from dsr.prompts.model import DSRPrompt, DSRType, Relation, normalize_sentence
from dsr.prompts.parse import parse_prompt

__all__ = [
    "DSRPrompt",
    "DSRType",
    "PromptParseError",
    "Relation",
    "normalize_sentence",
    "parse_prompt",
]
