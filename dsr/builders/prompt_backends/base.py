"""The backend Protocol and the candidate record every backend yields."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from dsr.prompts import DSRType

__all__ = ["BackendContext", "Candidate", "PromptBackend"]


@dataclass(frozen=True)
class Candidate:
    """One proposed prompt, as a backend produced it, before any validation.

    ``sentence`` and ``fields`` may both be given (an LLM declares the fields of its sentence: they
    must agree), or only one. ``error`` marks input that could not even be read (a broken CSV row,
    a malformed LLM response): it becomes a reject with that reason. ``origin`` says where exactly
    the candidate came from ("prompts.csv:12", "request 3c9a…"), for messages and the rejects file.
    ``source_id`` is the prompt's own id in an imported list (kept beside ours, never replacing it).
    """

    source: str
    origin: str
    sentence: str | None = None
    fields: Mapping[str, Any] | None = None
    split: str | None = None
    error: tuple[str, str] | None = None  # (reason, message)
    source_id: str | None = None


@dataclass(frozen=True)
class BackendContext:
    """What a backend may use: the seed, a cache folder in the work area, its own options."""

    seed: int
    cache_dir: Path
    options: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class PromptBackend(Protocol):
    """Produces candidates for the requested number of prompts per DSR type.

    ``generate`` is called once per round with the remaining shortfall; ``round_index`` lets a
    deterministic backend draw fresh prompts in later rounds. A backend with ``exhaustive = True``
    (a file) yields everything it has in round 0 and is not asked again.
    """

    name: str
    exhaustive: bool

    def source(self) -> str:
        """The value of the ``source`` column, e.g. ``"template"`` or ``"openai:gpt-4o"``."""
        ...

    def generate(self, wanted: Mapping[DSRType, int], round_index: int) -> Iterator[Candidate]: ...
