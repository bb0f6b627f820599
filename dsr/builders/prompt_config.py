"""The settings (:class:`PromptBuildConfig`) and the outcome (:class:`PromptBuildResult`) of
``build-prompts``, apart from the build itself so that its card section can name them."""

from __future__ import annotations

import os
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dsr.builders.prompt_backends import PROMPT_BACKENDS
from dsr.builders.prompt_splits import DISJOINT_MODES
from dsr.errors import ConfigError, PromptParseError
from dsr.limits import MAX_PROMPTS_PER_SPLIT, check_max
from dsr.prompts import DSRType, Relation, dsr_types

#: The relations of the paper, the default of ``--relations``.
PAPER_RELATIONS_TEXT = "left,right,top"

__all__ = ["SECRET_ENV", "PromptBuildConfig", "PromptBuildResult"]

#: Environment variables whose values must never reach a written file.
SECRET_ENV = ("OPENAI_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


@dataclass
class PromptBuildConfig:
    """Settings of ``dsr build-prompts``."""

    out: Path = field(metadata={"help": "Dataset folder to write the `prompts` config into."})
    backend: str = field(
        default="template",
        metadata={
            "help": "Where the prompts come from: template (offline), openai (an OpenAI-compatible "
            "endpoint) or file (an existing list).",
            "choices": PROMPT_BACKENDS.names(),
        },
    )
    n_train: int = field(
        default=500,
        metadata={
            "help": "Train prompts, balanced over the DSR types (the paper's six by default)."
        },
    )
    n_test: int = field(
        default=120,
        metadata={
            "help": "Test prompts, balanced over the DSR types (the paper's six by default)."
        },
    )
    relations: str = field(
        default=PAPER_RELATIONS_TEXT,
        metadata={
            "help": "Comma-separated relations whose DSR types (every ordered pair of two "
            "different ones) the splits balance: the paper's left,right,top, or any of "
            "left,right,top,under,front,behind (docs/method.md §8)."
        },
    )
    three_stage: bool = field(
        default=False,
        metadata={
            "help": "Three-stage types instead ('A, then B, then C': every triple of the "
            "relations whose consecutive ones differ; docs/method.md §8)."
        },
    )
    seed: int = field(default=0, metadata={"help": "Seed of generation and split selection."})
    disjoint: str = field(
        default="triple",
        metadata={
            "help": (
                "Keep train and test apart by `triple` (animal, object, scene) or only "
                "by `sentence`."
            ),
            "choices": DISJOINT_MODES,
        },
    )
    strict: bool = field(
        default=False,
        metadata={
            "help": "Write nothing if any input is bad (unparseable, mismatched, broken row)."
        },
    )
    max_rounds: int = field(
        default=5,
        metadata={
            "help": "Generation rounds to fill the splits before giving up on the shortfall."
        },
    )
    backend_options: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "Options of the chosen backend's config (e.g. model, base_url, path)."},
    )
    replace: bool = field(
        default=False,
        metadata={
            "help": (
                "Replace prompts that other configs of the folder (samples, pairs, unmerged "
                "samples) still name; refused otherwise."
            )
        },
    )
    command: str = field(
        default="", metadata={"help": "Sanitized command line recorded in the card."}
    )

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        for name in ("n_train", "n_test"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name}={getattr(self, name)}: must be 0 or more")
            check_max(
                name,
                getattr(self, name),
                MAX_PROMPTS_PER_SPLIT,
                "the paper uses 500 train, 120 test",
            )
        if self.n_train + self.n_test == 0:
            raise ConfigError("n_train and n_test are both 0: ask for at least one prompt")
        if self.disjoint not in DISJOINT_MODES:
            raise ConfigError(
                f"disjoint={self.disjoint!r}: choose one of {', '.join(DISJOINT_MODES)}"
            )
        if self.max_rounds < 1:
            raise ConfigError(f"max_rounds={self.max_rounds}: must be at least 1")
        PROMPT_BACKENDS.check(self.backend, self.backend_options)  # an unknown backend or option
        self.relations = _relations_text(self.relations)
        self.command = _safe_command(self.command)

    @property
    def types(self) -> tuple[DSRType, ...]:
        """The DSR types the splits balance, in order (the paper's six by default)."""
        return dsr_types(self.relations.split(","), stages=3 if self.three_stage else 2)

    def settings(self) -> dict[str, Any]:
        data = asdict(self)
        data["out"] = str(self.out)
        data.pop("command")
        data.pop("replace")
        if self.relations == PAPER_RELATIONS_TEXT and not self.three_stage:
            del data["relations"], data["three_stage"]  # the paper's: recorded as before
        return data


def _relations_text(text: str) -> str:
    """``relations`` checked and written canonically ("Left, top" → "left,top")."""
    words = [w for w in str(text).replace(" ", ",").split(",") if w]
    try:
        relations = list(dict.fromkeys(Relation.coerce(w).value for w in words))
    except PromptParseError as exc:
        raise ConfigError(f"relations={text!r}: {exc}") from None
    if len(relations) < 2:
        raise ConfigError(
            f"relations={text!r}: name at least two different relations, e.g. left,right,top"
        )
    return ",".join(relations)


def _safe_command(command: str) -> str:
    """Mask secrets in a command line even when a caller did not sanitize it (defence in depth)."""
    from dsr.cards import sanitize_command

    try:
        safe = sanitize_command(shlex.split(command)) if command else ""
    except ValueError:  # unbalanced quotes: mask what looks like a secret in the raw text
        safe = sanitize_command([command])
    for name in SECRET_ENV:
        value = os.environ.get(name)
        if value and len(value) >= 8:
            safe = safe.replace(value, "***")
    return safe


@dataclass(frozen=True)
class PromptBuildResult:
    """What a build produced."""

    out: Path
    counts: dict[str, dict[str, int]]  # split → DSR type code → rows
    rejects: dict[str, int]  # reason → count
    shortfall: dict[str, int]  # DSR type code → prompts still missing
    rounds: int
    rejects_file: Path

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())
