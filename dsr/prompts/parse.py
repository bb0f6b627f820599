"""Strict parsing of DSR prompt sentences back into :class:`DSRPrompt` records.

Two surface forms are understood (docs/method.md §1):

* canonical: ``<scene>, a <animal> is on the <init> of a <object>, then the <animal> <verb> to the
  <final> of the <object>.``
* from-to: ``<scene>, a <animal> <verb> from the <init> of a <object> to the <final> of the
  <object>.``

The scene is optional in both. The relations of docs/method.md §8 are also understood in the
wordings their registry declares ("is under a table", "walks in front of the log", "crawls behind
the log", "from under a table to the left of the table"), and a three-stage prompt adds a third
clause: ``..., then the <animal> <verb> to the <middle> of the <object>, then to the <final> of the
<object>.`` Anything else raises :class:`PromptParseError` naming what is wrong.
"""

from __future__ import annotations

import re

from dsr.errors import PromptParseError
from dsr.prompts.model import DSRPrompt, Relation
from dsr.prompts.relations import all_relations

__all__ = ["parse_prompt"]

_ART = r"(?:an?|the)"
# A relation word, optionally as "left side", "left hand side" or "left-hand side".
_REL = r"(?P<{name}>[A-Za-z-]+?)(?:[\s-]+hand)?(?:\s+side)?"
_FIRST = re.compile(
    r"^(?:(?P<scene>.+?),\s+)?an?\s+(?P<animal>[^,]+?)\s+is\s+(?:on|at|in)\s+(?:the\s+)?"
    + _REL.format(name="rel")
    + rf"(?:\s+of\s+{_ART}\s+(?P<object>.+?))?$",
    re.IGNORECASE,
)
_SECOND = re.compile(
    r"^the\s+(?P<rest>.+?)\s+(?:to|onto|towards?|over\s+to)\s+(?:the\s+)?"
    + _REL.format(name="rel")
    + rf"(?:\s+of\s+{_ART}\s+(?P<object>.+?))?$",
    re.IGNORECASE,
)
_FROM_TO = re.compile(
    r"^(?:(?P<scene>.+?),\s+)?an?\s+(?P<subject>[^,]+?)\s+from\s+(?:the\s+)?"
    + _REL.format(name="rel1")
    + rf"\s+of\s+{_ART}\s+(?P<object>.+?)\s+to\s+(?:the\s+)?"
    + _REL.format(name="rel2")
    + rf"\s+of\s+{_ART}\s+(?P<object2>.+?)$",
    re.IGNORECASE,
)
_THEN = re.compile(r",?\s+(?:and\s+)?then,?\s+", re.IGNORECASE)


def _bare_phrases() -> dict[str, Relation]:
    """Wordings said without "the <word> of" ("under", "behind", "in front of") → relation."""
    out: dict[str, Relation] = {}
    for rel in all_relations():
        spec = rel.spec
        for phrase in (spec.static, spec.motion, *spec.words):
            if not phrase.startswith(("on the ", "to the ")) and phrase not in spec.of_words:
                out[" ".join(phrase.split())] = rel
    return out


_BARE = _bare_phrases()
_BARE_RE = "|".join(p.replace(" ", r"\s+") for p in sorted(_BARE, key=lambda p: (-len(p), p)))
_FIRST_BARE = re.compile(
    r"^(?:(?P<scene>.+?),\s+)?an?\s+(?P<animal>[^,]+?)\s+is\s+"
    + rf"(?P<phrase>{_BARE_RE})\s+{_ART}\s+(?P<object>.+?)$",
    re.IGNORECASE,
)
_SECOND_BARE = re.compile(
    rf"^the\s+(?P<rest>.+?)\s+(?P<phrase>{_BARE_RE})(?:\s+{_ART}\s+(?P<object>.+?))?$",
    re.IGNORECASE,
)
_THIRD = re.compile(
    r"^(?:(?:to|onto|towards?|over\s+to)\s+(?:the\s+)?"
    + _REL.format(name="rel")
    + rf"(?:\s+of\s+{_ART}\s+(?P<object>.+?))?"
    + rf"|(?P<phrase>{_BARE_RE})(?:\s+{_ART}\s+(?P<object2>.+?))?)$",
    re.IGNORECASE,
)
_PLACE = (
    r"(?:(?:the\s+)?(?P<{w}>[A-Za-z-]+?)(?:[\s-]+hand)?(?:\s+side)?\s+of"
    + rf"|(?P<{{b}}>{_BARE_RE}))"
)
_FROM_TO_ANY = re.compile(
    r"^(?:(?P<scene>.+?),\s+)?an?\s+(?P<subject>[^,]+?)\s+from\s+"
    + _PLACE.format(w="rel1", b="bare1")
    + rf"\s+{_ART}\s+(?P<object>.+?)\s+to\s+"
    + _PLACE.format(w="rel2", b="bare2")
    + rf"\s+{_ART}\s+(?P<object2>.+?)$",
    re.IGNORECASE,
)


def _of_word(word: str) -> Relation:
    """The relation of "on/to the <word> of"; a relation not said that way is an error naming
    how it is said ("on the under of" → say "under a <object>")."""
    rel = Relation.coerce(word)
    if word.strip().lower() not in rel.spec.of_words:
        raise PromptParseError(
            f"relation word {word!r} is not said as 'the {word} of': say "
            f"'{rel.spec.static} a <object>' (docs/method.md §8)"
        )
    return rel


def _bare(phrase: str) -> Relation:
    return _BARE[" ".join(phrase.lower().split())]


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).lower()


def _strip_end(text: str) -> str:
    return text.strip().rstrip(" .!")


def parse_prompt(text: str) -> DSRPrompt:
    """Parse a DSR prompt sentence (canonical or from-to form) into a :class:`DSRPrompt`.

    Raises :class:`PromptParseError` (a ``ValueError``) naming the problem: an unknown relation
    word, an animal or object named differently in the two clauses, equal initial and final
    relations, a missing object, or text that is not a DSR prompt at all.
    """
    if not isinstance(text, str) or not text.strip():
        raise PromptParseError("empty prompt: expected a DSR sentence")
    sentence = _strip_end(" ".join(text.split()))
    parts = _THEN.split(sentence, maxsplit=2)
    if len(parts) >= 2:
        return _parse_then_form(parts[0], parts[1], parts[2] if len(parts) == 3 else None)
    match = _FROM_TO.match(sentence) or _FROM_TO_ANY.match(sentence)
    if match:
        return _parse_from_to(match)
    raise PromptParseError(
        f"not a DSR prompt: {text!r} has neither a '..., then the <animal> <verb> to the <rel> of "
        "the <object>' clause nor the 'from the <rel> of a <object> to the <rel> of the <object>' "
        "form"
    )


def _first_clause(first: str) -> tuple[str, str, str, Relation]:
    """Scene, animal, object and relation of 'a <animal> is on the <rel> of a <object>'."""
    m1 = _FIRST.match(first)
    if m1:
        relation = _of_word(m1["rel"])
    else:
        m1 = _FIRST_BARE.match(first)
        if not m1:
            raise PromptParseError(
                f"first clause {first!r} is not 'a <animal> is on the <left|right|top> of a "
                "<object>' (or under, in front of, behind a <object>)"
            )
        relation = _bare(m1["phrase"])
    animal, obj = _norm(m1["animal"]), _norm(m1["object"])
    if not obj:
        raise PromptParseError(f"missing object in {first!r}: expected '... of a <object>'")
    return (m1["scene"] or "").strip(), animal, obj, relation


def _second_clause(second: str) -> tuple[str, str, Relation]:
    """The 'rest' (animal and verb), the object and the relation of the second clause."""
    m2 = _SECOND.match(second)
    if m2:
        return _norm(m2["rest"]), _norm(m2["object"]), _of_word(m2["rel"])
    m2 = _SECOND_BARE.match(second)
    if m2:
        return _norm(m2["rest"]), _norm(m2["object"]), _bare(m2["phrase"])
    raise PromptParseError(
        f"second clause {second!r} is not 'the <animal> <verb> to the <left|right|top> of the "
        "<object>' (or under, in front of, behind the <object>)"
    )


def _third_clause(third: str) -> tuple[str, Relation]:
    """The object and relation of a three-stage prompt's 'then to the <rel> of the <object>'."""
    m3 = _THIRD.match(third)
    if not m3:
        raise PromptParseError(
            f"third clause {third!r} is not 'to the <relation> of the <object>' (or under, in "
            "front of, behind the <object>)"
        )
    if m3["phrase"]:
        return _norm(m3["object2"]), _bare(m3["phrase"])
    return _norm(m3["object"]), _of_word(m3["rel"])


def _parse_then_form(first: str, second: str, third: str | None) -> DSRPrompt:
    scene, animal, obj, initial = _first_clause(first)
    rest, obj2, second_rel = _second_clause(second)
    if obj2 and obj2 != obj:
        raise PromptParseError(
            f"object named differently in the two clauses: {obj!r} then {obj2!r}"
        )
    verb = _split_subject(rest, animal)
    middle, final = None, second_rel
    if third is not None:
        obj3, final = _third_clause(third)
        middle = second_rel
        if obj3 and obj3 != obj:
            raise PromptParseError(f"object named differently: {obj!r} then {obj3!r}")
    return DSRPrompt(
        scene=scene,
        animal=animal,
        object=obj,
        initial=initial,
        final=final,
        verb=verb,
        middle=middle,
    )


def _split_subject(rest: str, animal: str) -> str:
    """Return the verb of 'the <animal> <verb>'; the animal must match the first clause."""
    if rest.startswith(animal + " ") and len(rest) > len(animal) + 1:
        return rest[len(animal) + 1 :]
    words = rest.split(" ")
    other = " ".join(words[:-1]) or rest
    raise PromptParseError(
        f"animal named differently in the two clauses: {animal!r} then {other!r}"
    )


def _place(match: re.Match[str], n: int) -> Relation:
    word = match.groupdict().get(f"rel{n}")
    return _of_word(word) if word else _bare(match[f"bare{n}"])


def _parse_from_to(match: re.Match[str]) -> DSRPrompt:
    obj, obj2 = _norm(match["object"]), _norm(match["object2"])
    if obj != obj2:
        raise PromptParseError(f"object named differently in the two places: {obj!r} then {obj2!r}")
    words = _norm(match["subject"]).split(" ")
    if len(words) < 2:
        raise PromptParseError(
            f"cannot tell the animal from the verb in {match['subject']!r}: expected "
            "'a <animal> <verb> from ...'"
        )
    return DSRPrompt(
        scene=(match["scene"] or "").strip(),
        animal=" ".join(words[:-1]),
        object=obj,
        initial=_place(match, 1),
        final=_place(match, 2),
        verb=words[-1],
    )
