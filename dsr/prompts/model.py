"""The data model of a DSR prompt (docs/method.md §1, §8): DSR types (the paper's six and any other
sequence of registered relations) and the prompt record."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from dsr.errors import PromptParseError
from dsr.prompts.relations import PAPER_RELATIONS, Relation, all_relations

__all__ = ["DSRPrompt", "DSRType", "Relation", "dsr_types"]


class _PaperTypes(type):
    """Iterating DSRType, ``len`` and ``__members__`` cover the paper's six types (A–F order), so
    that every default built by looping over it stays the paper's."""

    def __iter__(cls) -> Iterator[DSRType]:
        return iter(_PAPER_TYPES)

    def __len__(cls) -> int:
        return len(_PAPER_TYPES)

    @property
    def __members__(cls) -> dict[str, DSRType]:
        return {t.code: t for t in _PAPER_TYPES}


class DSRType(metaclass=_PaperTypes):
    """A dynamic spatial relation: the sequence of relations the animal goes through.

    Two stages (initial → final) for any ordered pair of different relations, or, opt-in, three
    ("A, then B, then C", consecutive relations different). The code is the relations' letters
    (``LR``, ``UF``, ``LTR``); the paper's six keep their codes and letters A–F, and only they have
    a letter (empty for the others). Instances are interned: ``DSRType.of("left", "top") is
    DSRType.LT``. Iterating the class yields the paper's six; :func:`dsr_types` lists the types of
    any set of relations.
    """

    __slots__ = ("relations",)
    relations: tuple[Relation, ...]

    LT: ClassVar[DSRType]
    TL: ClassVar[DSRType]
    RT: ClassVar[DSRType]
    LR: ClassVar[DSRType]
    TR: ClassVar[DSRType]
    RL: ClassVar[DSRType]

    def __new__(cls, relations: Iterable[Relation | str]) -> DSRType:
        key = tuple(Relation.coerce(r) for r in relations)
        found = _INTERNED.get(key)
        if found is not None:
            return found
        _check_stages(key)
        member = super().__new__(cls)
        object.__setattr__(member, "relations", key)
        return _INTERNED.setdefault(key, member)  # atomic: concurrent callers get one instance

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("DSRType is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DSRType) and other.relations == self.relations

    def __hash__(self) -> int:
        return hash(self.relations)

    def __reduce__(self) -> tuple[Any, ...]:
        return (DSRType, (self.value,))

    def __repr__(self) -> str:
        return f"<DSRType.{self.code}: {' → '.join(self.value)}>"

    def __str__(self) -> str:
        return f"DSRType.{self.code}"

    @classmethod
    def of(cls, *relations: Relation | str) -> DSRType:
        """The type going through ``relations`` in order (two, or three for a three-stage type)."""
        return cls(relations)

    @property
    def code(self) -> str:
        """The relations' letters, e.g. ``"LR"``, ``"UF"``, ``"LTR"``."""
        return "".join(r.letter for r in self.relations)

    @property
    def name(self) -> str:
        """The code (as the former enum member's name)."""
        return self.code

    @property
    def value(self) -> tuple[str, ...]:
        """The relation names, e.g. ``("left", "top")``."""
        return tuple(r.value for r in self.relations)

    @property
    def letter(self) -> str:
        """The paper's letter A–F; empty for any other type."""
        return _LETTERS.get(self, "")

    @property
    def paper(self) -> bool:
        """One of the paper's six types."""
        return self in _LETTERS

    @property
    def initial(self) -> Relation:
        return self.relations[0]

    @property
    def final(self) -> Relation:
        return self.relations[-1]

    @property
    def middle(self) -> Relation | None:
        """The relation of the middle stage of a three-stage type, else None."""
        return self.relations[1] if len(self.relations) == 3 else None

    @property
    def needs_depth(self) -> bool:
        """Whether scoring it needs a depth estimate per frame (a stage is front or behind)."""
        return any(r.spec.needs_depth for r in self.relations)

    @property
    def order(self) -> tuple[int, ...]:
        """Sort key: the paper's six first in A–F order, then by stages and registry order."""
        if self.paper:
            return (0, _PAPER_TYPES.index(self))
        ranks = [_RANK[r] for r in self.relations]
        return (len(self.relations) - 1, *ranks)

    @classmethod
    def from_relations(cls, initial: Relation | str, final: Relation | str) -> DSRType:
        """The type whose initial and final relations are the given ones."""
        return cls((initial, final))

    @classmethod
    def coerce(cls, value: DSRType | str) -> DSRType:
        """Accept a DSRType, its code (``"LR"``, ``"UF"``, ``"LTR"``) or a paper letter (``D``)."""
        if isinstance(value, DSRType):
            return value
        text = str(value).strip().upper()
        if len(text) == 1 and text in "ABCDEF":
            return _PAPER_TYPES["ABCDEF".index(text)]
        relations = [_BY_LETTER.get(c) for c in text]
        if len(text) in (2, 3) and all(relations):
            try:
                return cls(r for r in relations if r is not None)
            except PromptParseError:
                pass
        raise PromptParseError(
            f"unknown DSR type {value!r}: use a code such as LR (letters "
            f"{', '.join(f'{r.letter}={r.value}' for r in all_relations())}, consecutive ones "
            "different) or a letter A-F"
        )


def _check_stages(relations: tuple[Relation, ...]) -> None:
    if len(relations) not in (2, 3):
        raise PromptParseError(
            f"a DSR type has 2 relations (initial, final) or 3 (three-stage), got {len(relations)}"
        )
    for a, b in zip(relations, relations[1:], strict=False):
        if a is b:
            chain = "→".join(r.value for r in relations)
            raise PromptParseError(
                f"{chain} is not one of the six DSR types nor any other: consecutive relations "
                f"are both {a.value!r}, and a DSR type must change the relation"
            )


_INTERNED: dict[tuple[Relation, ...], DSRType] = {}
_PAPER_TYPES: tuple[DSRType, ...] = tuple(
    DSRType(pair)
    for pair in (
        ("left", "top"),
        ("top", "left"),
        ("right", "top"),
        ("left", "right"),
        ("top", "right"),
        ("right", "left"),
    )
)
for _t in _PAPER_TYPES:
    setattr(DSRType, _t.code, _t)
_LETTERS: dict[DSRType, str] = dict(zip(_PAPER_TYPES, "ABCDEF", strict=True))
_BY_LETTER: dict[str, Relation] = {r.letter: r for r in all_relations()}
_RANK: dict[Relation, int] = {r: i for i, r in enumerate(all_relations())}


def dsr_types(
    relations: Iterable[Relation | str] | None = None, *, stages: int = 2
) -> tuple[DSRType, ...]:
    """The DSR types over ``relations`` (default: the paper's three), in :attr:`DSRType.order`:
    every ordered pair of different relations, or with ``stages=3`` every triple whose consecutive
    relations differ. For the paper's three relations and two stages this is the six of A–F."""
    chosen = list(
        dict.fromkeys(
            Relation.coerce(r) for r in (PAPER_RELATIONS if relations is None else relations)
        )
    )
    if stages == 2:
        out = [DSRType.of(a, b) for a in chosen for b in chosen if a is not b]
    elif stages == 3:
        out = [
            DSRType.of(a, b, c)
            for a in chosen
            for b in chosen
            for c in chosen
            if a is not b and b is not c
        ]
    else:
        raise PromptParseError(f"stages={stages}: a DSR type has 2 or 3 stages")
    return tuple(sorted(out, key=lambda t: t.order))


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


def _clean(text: str | None) -> str:
    return "" if text is None else " ".join(str(text).split())


@dataclass(frozen=True)
class DSRPrompt:
    """One dynamic spatial relation: an animal moves from one side of a static object to another.

    ``animal`` and ``object`` are free noun phrases ("red fox", "wooden crate"); ``verb`` is the
    motion verb in the third person ("walks", "flutters"); ``scene`` may be empty. ``middle`` is
    the relation of the middle stage of a three-stage prompt ("A, then B, then C"), None otherwise.
    """

    scene: str
    animal: str
    object: str
    initial: Relation
    final: Relation
    verb: str
    middle: Relation | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "initial", Relation.coerce(self.initial))
        object.__setattr__(self, "final", Relation.coerce(self.final))
        if self.middle is not None and self.middle != "":
            object.__setattr__(self, "middle", Relation.coerce(self.middle))
        else:
            object.__setattr__(self, "middle", None)
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
        if self.initial == self.final and self.middle is None:
            raise PromptParseError(
                f"initial and final relation are both {self.initial.value!r}: "
                "a DSR prompt must change the relation"
            )
        _ = self.dsr_type  # rejects e.g. a three-stage prompt that stays put in one stage

    @property
    def relations(self) -> tuple[Relation, ...]:
        """The stages' relations in order (two, or three)."""
        if self.middle is None:
            return (self.initial, self.final)
        return (self.initial, self.middle, self.final)

    @property
    def dsr_type(self) -> DSRType:
        return DSRType(self.relations)

    def _join(self, body: str) -> str:
        if not self.scene:
            return body[0].upper() + body[1:]
        return f"{self.scene.rstrip(',')}, {body}"

    def render(self) -> str:
        """The canonical sentence of docs/method.md §1 (§8 for the other relations and for a
        third stage: "..., then the <animal> <verb> to the top of the <object>, then to the right
        of the <object>.")."""
        first, *moves = self.relations
        body = (
            f"{_article(self.animal)} {self.animal} is {first.spec.static} "
            f"{_article(self.object)} {self.object}, then the {self.animal} {self.verb} "
            f"{moves[0].spec.motion} the {self.object}"
        )
        for rel in moves[1:]:
            body += f", then {rel.spec.motion} the {self.object}"
        return self._join(body + ".")

    def render_from_to(self) -> str:
        """The alternative 'from the X of a O to the Y of the O' phrasing (same facts)."""
        if self.middle is not None:
            raise PromptParseError(
                "a three-stage prompt has no from-to form: render it with render()"
            )
        body = (
            f"{_article(self.animal)} {self.animal} {self.verb} from {self.initial.spec.place} "
            f"{_article(self.object)} {self.object} to {self.final.spec.place} the {self.object}."
        )
        return self._join(body)

    def stable_id(self) -> str:
        """A short id derived from the normalized canonical sentence (stable across runs)."""
        digest = hashlib.sha1(normalize_sentence(self.render()).encode()).hexdigest()
        return f"{self.dsr_type.code.lower()}-{digest[:10]}"

    def to_dict(self) -> dict[str, Any]:
        """Plain fields, relations as their names, plus the sentence and the type code
        (``middle`` only for a three-stage prompt)."""
        data = asdict(self)
        data["initial"] = self.initial.value
        data["final"] = self.final.value
        if self.middle is None:
            data.pop("middle")
        else:
            data["middle"] = self.middle.value
        data["dsr_type"] = self.dsr_type.code
        data["prompt"] = self.render()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DSRPrompt:
        """Build from a mapping with at least animal, object, initial, final and verb (and
        ``middle`` for a three-stage prompt)."""
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
            middle=data.get("middle") or None,
        )


def normalize_sentence(text: str) -> str:
    """Lower case, single spaces, no trailing punctuation: the key for near-duplicate checks."""
    return re.sub(r"[^\w\s]", "", _clean(text).lower()).strip()
