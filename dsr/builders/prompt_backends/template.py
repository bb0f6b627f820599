"""The offline template backend: a seeded grammar over the vocabularies of :mod:`.vocab`.

Deterministic for a seed (``random.Random`` seeded with a string is stable across processes and
Python versions); stdlib only, and fast (it only formats strings).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from dsr.builders.prompt_backends import vocab
from dsr.builders.prompt_backends.base import BackendContext, Candidate
from dsr.errors import ConfigError
from dsr.prompts import DSRType, Relation

__all__ = ["TemplateBackend", "TemplateBackendConfig"]


@dataclass(frozen=True)
class TemplateBackendConfig:
    """Settings of the template backend."""

    oversample: float = field(
        default=1.1, metadata={"help": "Candidates drawn per missing prompt (covers duplicates)."}
    )

    def __post_init__(self) -> None:
        if not self.oversample >= 1.0:
            raise ConfigError(f"oversample={self.oversample}: must be at least 1.0")


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _sentence(f: dict[str, str]) -> str:
    """The docs/method.md §1 sentence (§8 for the other relations and a third stage), formatted
    here from the relations' declared wordings so that the parser independently checks it."""
    first, *moves = (Relation(f[k]).spec for k in ("initial", "middle", "final") if k in f)
    text = (
        f"{f['scene']}, {_a(f['animal'])} is {first.static} {_a(f['object'])}, then the "
        f"{f['animal']} {f['verb']} {moves[0].motion} the {f['object']}"
    )
    return text + "".join(f", then {m.motion} the {f['object']}" for m in moves[1:]) + "."


class TemplateBackend:
    """Composes prompts: animal + a verb that fits it, a place, and a detail, an ambience and an
    object that fit the place (indoor or outdoor)."""

    name = "template"
    exhaustive = False
    config_class = TemplateBackendConfig

    def __init__(self, context: BackendContext) -> None:
        self.seed = context.seed
        self.config = TemplateBackendConfig(**dict(context.options))
        self._animals = tuple(vocab.ANIMAL_VERBS.items())
        self._places = tuple(vocab.PLACES.items())
        self._parts = {
            setting: (
                vocab.fitting(vocab.DETAILS, setting),
                vocab.fitting(vocab.AMBIENCES, setting),
                vocab.fitting(vocab.OBJECTS, setting),
            )
            for setting in vocab.SETTINGS
        }

    def source(self) -> str:
        return "template"

    def generate(self, wanted: Mapping[DSRType, int], round_index: int) -> Iterator[Candidate]:
        for dsr_type, count in wanted.items():
            rng = random.Random(f"dsr-template:{self.seed}:{round_index}:{dsr_type.code}")
            for _ in range(int(count * self.config.oversample + 0.999)):
                fields = self._draw(rng, dsr_type)
                yield Candidate(
                    source="template",
                    origin=f"seed {self.seed}",
                    sentence=_sentence(fields),
                    fields=fields,
                )

    def _draw(self, rng: random.Random, dsr_type: DSRType) -> dict[str, str]:
        animal, verbs = rng.choice(self._animals)
        place, setting = rng.choice(self._places)
        details, ambiences, objects = self._parts[setting]
        fields = {
            "scene": f"{place} {rng.choice(details)} {rng.choice(ambiences)}",
            "animal": animal,
            "object": rng.choice(objects),
            "initial": dsr_type.initial.value,
            "final": dsr_type.final.value,
            "verb": rng.choice(verbs),
        }
        if dsr_type.middle is not None:
            fields["middle"] = dsr_type.middle.value
        return fields
