"""DSR prompts: the relations registry, DSR types, the record, its canonical sentence, and a strict
parser."""

from __future__ import annotations

from dsr.errors import PromptParseError
from dsr.prompts.model import DSRPrompt, DSRType, Relation, dsr_types, normalize_sentence
from dsr.prompts.parse import parse_prompt
from dsr.prompts.relations import (
    BOXES,
    BOXES_AND_DEPTH,
    PAPER_RELATIONS,
    RelationSpec,
    all_relations,
    relation_spec,
)

__all__ = [
    "BOXES",
    "BOXES_AND_DEPTH",
    "PAPER_RELATIONS",
    "DSRPrompt",
    "DSRType",
    "PromptParseError",
    "Relation",
    "RelationSpec",
    "all_relations",
    "dsr_types",
    "normalize_sentence",
    "parse_prompt",
    "relation_spec",
]
