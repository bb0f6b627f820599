"""The registry of static spatial relations (docs/method.md §1, §8).

Each relation declares how prompts say it, what a frame must provide to score it, its letter in
DSR type codes and its opposite. The paper's three (``left``, ``right``, ``top``) come first; the
other three (``under``, ``front``, ``behind``) extend the benchmark as the paper's limitations
section suggests. Their per-frame scores live in :mod:`dsr.scoring.relations` (numpy), keyed by
the same :class:`Relation`.

Iterating :class:`Relation` yields the paper's three only, so that every default built by looping
over it (prompt quotas, cards, type orders) stays the paper's; :func:`all_relations` lists every
registered relation.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dsr.errors import PromptParseError

__all__ = [
    "BOXES",
    "BOXES_AND_DEPTH",
    "PAPER_RELATIONS",
    "Relation",
    "RelationSpec",
    "all_relations",
    "relation_spec",
]

#: What a relation needs per frame: the two boxes, or the boxes and a depth estimate.
BOXES, BOXES_AND_DEPTH = "boxes", "boxes+depth"


class _PaperFirst(enum.EnumMeta):
    """Iterating and ``len`` cover the paper's relations; ``__members__`` and lookups cover all."""

    def __iter__(cls) -> Iterator[Any]:
        members: Iterator[Any] = super().__iter__()
        return (m for m in members if m.value in _PAPER_VALUES)

    def __len__(cls) -> int:
        return len(_PAPER_VALUES)


class Relation(str, enum.Enum, metaclass=_PaperFirst):
    """A static spatial relation of the animal with respect to the object.

    ``list(Relation)`` is the paper's three; :func:`all_relations` gives every one.
    """

    LEFT = "left"
    RIGHT = "right"
    TOP = "top"
    UNDER = "under"
    FRONT = "front"
    BEHIND = "behind"

    @classmethod
    def coerce(cls, value: Relation | str) -> Relation:
        """Return ``value`` as a Relation; accepts the enum, its name in any case, or one of its
        words ("beneath" → under)."""
        if isinstance(value, Relation):
            return value
        found = _WORDS.get(str(value).strip().lower()) if isinstance(value, str) else None
        if found is None:
            names = ", ".join(r.value for r in all_relations())
            raise PromptParseError(f"unknown relation word {value!r}: expected one of {names}")
        return found

    @property
    def letter(self) -> str:
        """The one-letter abbreviation used in DSR type codes (L, R, T, U, F, B)."""
        return _BY_RELATION[self].letter

    @property
    def spec(self) -> RelationSpec:
        """What the registry declares for this relation."""
        return _BY_RELATION[self]


@dataclass(frozen=True)
class RelationSpec:
    """One relation as the registry declares it.

    ``static`` is how the first clause states it ("a cat is <static> a box"), ``motion`` how the
    second clause moves into it ("then the cat walks <motion> the box"), ``place`` how the from-to
    form names it ("from <place> a box"); ``words`` are the relation words the parser accepts,
    ``of_words`` those it accepts in "on/to the <word> of" ("to the back of"). ``needs`` is
    :data:`BOXES` or :data:`BOXES_AND_DEPTH`; ``opposite`` the relation whose per-frame score is
    exactly the negation of this one's (None where no registered relation is).
    """

    relation: Relation
    letter: str
    static: str
    motion: str
    place: str
    words: tuple[str, ...]
    of_words: tuple[str, ...]
    needs: str
    opposite: Relation | None
    paper: bool
    formula: str

    @property
    def needs_depth(self) -> bool:
        return self.needs == BOXES_AND_DEPTH


_REGISTRY: tuple[RelationSpec, ...] = (
    RelationSpec(
        relation=Relation.LEFT,
        letter="L",
        static="on the left of",
        motion="to the left of",
        place="the left of",
        words=("left",),
        of_words=("left",),
        needs=BOXES,
        opposite=Relation.RIGHT,
        paper=True,
        formula="cos(v, (−1, 0)) · clip(|v_x| / mean width, 0, 1)",
    ),
    RelationSpec(
        relation=Relation.RIGHT,
        letter="R",
        static="on the right of",
        motion="to the right of",
        place="the right of",
        words=("right",),
        of_words=("right",),
        needs=BOXES,
        opposite=Relation.LEFT,
        paper=True,
        formula="cos(v, (+1, 0)) · clip(|v_x| / mean width, 0, 1)",
    ),
    RelationSpec(
        relation=Relation.TOP,
        letter="T",
        static="on the top of",
        motion="to the top of",
        place="the top of",
        words=("top",),
        of_words=("top",),
        needs=BOXES,
        opposite=None,
        paper=True,
        formula="cos(v, (0, −1)) · clip(|v_y| / mean height, 0, 1)",
    ),
    RelationSpec(
        relation=Relation.UNDER,
        letter="U",
        static="under",
        motion="under",
        place="under",
        words=("under", "beneath", "below", "underneath"),
        of_words=(),
        needs=BOXES,
        opposite=None,
        paper=False,
        formula="cos(v, (0, +1)) · clip(|v_y| / min(0.1 h_a, 0.1 h_o), 0, 1)",
    ),
    RelationSpec(
        relation=Relation.FRONT,
        letter="F",
        static="in front of",
        motion="in front of",
        place="the front of",
        words=("front",),
        of_words=("front",),
        needs=BOXES_AND_DEPTH,
        opposite=Relation.BEHIND,
        paper=False,
        formula="occlusion if any, else clip((depth_o − depth_a) / margin, −1, 1)",
    ),
    RelationSpec(
        relation=Relation.BEHIND,
        letter="B",
        static="behind",
        motion="behind",
        place="the back of",
        words=("behind", "back"),
        of_words=("back",),
        needs=BOXES_AND_DEPTH,
        opposite=Relation.FRONT,
        paper=False,
        formula="−(the score of front)",
    ),
)

_BY_RELATION: dict[Relation, RelationSpec] = {s.relation: s for s in _REGISTRY}
_PAPER_VALUES = frozenset(s.relation.value for s in _REGISTRY if s.paper)
_WORDS: dict[str, Relation] = {
    **{w: s.relation for s in _REGISTRY for w in s.words},
    **{s.relation.value: s.relation for s in _REGISTRY},
}

#: The paper's three relations, in their order.
PAPER_RELATIONS: tuple[Relation, ...] = tuple(s.relation for s in _REGISTRY if s.paper)


def all_relations() -> tuple[Relation, ...]:
    """Every registered relation: the paper's three, then under, front, behind."""
    return tuple(s.relation for s in _REGISTRY)


def relation_spec(relation: Relation | str) -> RelationSpec:
    """The registry's declaration of ``relation``."""
    return _BY_RELATION[Relation.coerce(relation)]
