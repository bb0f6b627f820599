"""The data model of a DSR prompt (docs/method.md §1): relations, the six DSR types, and the prompt
record."""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import asdict, dataclass
from typing import Any

from dsr.errors import PromptParseError

__all__ = ["DSRPrompt", "DSRType", "Relation"]


class Relation(str, enum.Enum):
    """A static spatial relation of the animal with respect to the object."""

    LEFT = "left"
    RIGHT = "right"
    TOP = "top"

    @classmethod
    def coerce(cls, value: Relation | str) -> Relation:
        """Return ``value`` as a Relation; accepts the enum or its name in any case."""
        if isinstance(value, Relation):
            return value
        try:
            fast = _RELATIONS.get(value) if isinstance(value, str) else None
            return fast or cls(str(value).strip().lower())
        except ValueError:
            names = ", ".join(r.value for r in cls)
            raise PromptParseError(
                f"unknown relation word {value!r}: expected one of {names}"
            ) from None

    @property
    def letter(self) -> str:
        """The one-letter abbreviation used in DSR type codes (L, R, T)."""
        return self.value[0].upper()


class DSRType(enum.Enum):
    """The six dynamic spatial relations of the paper, in its A–F order."""

    LT = ("left", "top")
    TL = ("top", "left")
    RT = ("right", "top")
    LR = ("left", "right")
    TR = ("top", "right")
    RL = ("right", "left")

    @property
    def code(self) -> str:
        """Two-letter code, e.g. ``"LR"``."""
        return self.name

    @property
    def letter(self) -> str:
        """The paper's letter A–F."""
        return _LETTERS[self]

    @property
    def initial(self) -> Relation:
        return Relation(self.value[0])

    @property
    def final(self) -> Relation:
        return Relation(self.value[1])

    @classmethod
    def from_relations(cls, initial: Relation | str, final: Relation | str) -> DSRType:
        """The type whose initial and final relations are the given ones."""
        key = (Relation.coerce(initial).value, Relation.coerce(final).value)
        member = _BY_RELATIONS.get(key)
        if member is not None:
            return member
        raise PromptParseError(
            f"{key[0]}→{key[1]} is not one of the six DSR types "
            f"({', '.join(f'{m.value[0]}→{m.value[1]}' for m in cls)})"
        )

    @classmethod
    def coerce(cls, value: DSRType | str) -> DSRType:
        """Accept a DSRType, its code (``"LR"``) or its letter (``"D"``)."""
        if isinstance(value, DSRType):
            return value
        text = str(value).strip().upper()
        if text in cls.__members__:
            return cls[text]
        if len(text) == 1 and text in "ABCDEF":
            return list(cls)["ABCDEF".index(text)]
        raise PromptParseError(f"unknown DSR type {value!r}: use a code such as LR or a letter A-F")


_RELATIONS: dict[str, Relation] = {r.value: r for r in Relation}
_LETTERS: dict[DSRType, str] = dict(zip(DSRType, "ABCDEF", strict=True))
_BY_RELATIONS: dict[tuple[str, str], DSRType] = {t.value: t for t in DSRType}


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


def _clean(text: str | None) -> str:
    return "" if text is None else " ".join(str(text).split())


@dataclass(frozen=True)
class DSRPrompt:
    """One dynamic spatial relation: an animal moves from one side of a static object to another.

    ``animal`` and ``object`` are free noun phrases ("red fox", "wooden crate"); ``verb`` is the
    motion verb in the third person ("walks", "flutters"); ``scene`` may be empty.
    """

    scene: str
    animal: str
    object: str
    initial: Relation
    final: Relation
    verb: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "initial", Relation.coerce(self.initial))
        object.__setattr__(self, "final", Relation.coerce(self.final))
        for name in ("scene", "animal", "object", "verb"):
            object.__setattr__(self, name, _clean(getattr(self, name)))
        for name in ("animal", "object", "verb"):
            if not getattr(self, name):
                raise PromptParseError(f"a DSR prompt needs a non-empty {name}")
        # Nouns and verb in lower case, the scene without the comma that joins it to the body:
        # the parser returns exactly these forms, so render → parse gives back the same record.
        object.__setattr__(self, "animal", self.animal.lower())
        object.__setattr__(self, "object", self.object.lower())
        object.__setattr__(self, "verb", self.verb.lower())
        object.__setattr__(self, "scene", self.scene.rstrip(", ").strip())
        if self.initial == self.final:
            raise PromptParseError(
                f"initial and final relation are both {self.initial.value!r}: "
                "a DSR prompt must change the relation"
            )
        DSRType.from_relations(self.initial, self.final)  # rejects e.g. a missing type

    @property
    def dsr_type(self) -> DSRType:
        return DSRType.from_relations(self.initial, self.final)

    def render(self) -> str:
        """The canonical sentence of docs/method.md §1."""
        body = (
            f"{_article(self.animal)} {self.animal} is on the {self.initial.value} of "
            f"{_article(self.object)} {self.object}, then the {self.animal} {self.verb} "
            f"to the {self.final.value} of the {self.object}."
        )
        if not self.scene:
            return body[0].upper() + body[1:]
        return f"{self.scene.rstrip(',')}, {body}"

    def render_from_to(self) -> str:
        """The alternative 'from the X of a O to the Y of the O' phrasing (same facts)."""
        body = (
            f"{_article(self.animal)} {self.animal} {self.verb} from the {self.initial.value} of "
            f"{_article(self.object)} {self.object} to the {self.final.value} of the {self.object}."
        )
        if not self.scene:
            return body[0].upper() + body[1:]
        return f"{self.scene.rstrip(',')}, {body}"

    def stable_id(self) -> str:
        """A short id derived from the normalized canonical sentence (stable across runs)."""
        digest = hashlib.sha1(normalize_sentence(self.render()).encode()).hexdigest()
        return f"{self.dsr_type.code.lower()}-{digest[:10]}"

    def to_dict(self) -> dict[str, Any]:
        """Plain fields, relations as their names, plus the sentence and the type code."""
        data = asdict(self)
        data["initial"] = self.initial.value
        data["final"] = self.final.value
        data["dsr_type"] = self.dsr_type.code
        data["prompt"] = self.render()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DSRPrompt:
        """Build from a mapping with at least animal, object, initial, final and verb."""
        missing = [k for k in ("animal", "object", "initial", "final", "verb") if not data.get(k)]
        if missing:
            raise PromptParseError(f"prompt record lacks {', '.join(missing)}")
        return cls(
            scene=data.get("scene") or "",
            animal=data["animal"],
            object=data["object"],
            initial=data["initial"],
            final=data["final"],
            verb=data["verb"],
        )


def normalize_sentence(text: str) -> str:
    """Lower case, single spaces, no trailing punctuation: the key for near-duplicate checks."""
    return re.sub(r"[^\w\s]", "", _clean(text).lower()).strip()
