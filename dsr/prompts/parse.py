"""Strict parsing of DSR prompt sentences back into :class:`DSRPrompt` records.

Two surface forms are understood (docs/method.md §1):

* canonical: ``<scene>, a <animal> is on the <init> of a <object>, then the <animal> <verb> to the
  <final> of the <object>.``
* from-to: ``<scene>, a <animal> <verb> from the <init> of a <object> to the <final> of the
  <object>.``

The scene is optional in both. Anything else raises :class:`PromptParseError` naming what is wrong.
"""

from __future__ import annotations

import re

from dsr.errors import PromptParseError
from dsr.prompts.model import DSRPrompt, Relation

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
    parts = _THEN.split(sentence, maxsplit=1)
    if len(parts) == 2:
        return _parse_then_form(sentence, parts[0], parts[1])
    match = _FROM_TO.match(sentence)
    if match:
        return _parse_from_to(match)
    raise PromptParseError(
        f"not a DSR prompt: {text!r} has neither a '..., then the <animal> <verb> to the <rel> of "
        "the <object>' clause nor the 'from the <rel> of a <object> to the <rel> of the <object>' "
        "form"
    )


def _parse_then_form(sentence: str, first: str, second: str) -> DSRPrompt:
    m1 = _FIRST.match(first)
    if not m1:
        raise PromptParseError(
            f"first clause {first!r} is not 'a <animal> is on the <left|right|top> of a <object>'"
        )
    m2 = _SECOND.match(second)
    if not m2:
        raise PromptParseError(
            f"second clause {second!r} is not 'the <animal> <verb> to the <left|right|top> of the "
            "<object>'"
        )
    animal, obj = _norm(m1["animal"]), _norm(m1["object"])
    if not obj:
        raise PromptParseError(f"missing object in {first!r}: expected '... of a <object>'")
    initial = Relation.coerce(m1["rel"])
    final = Relation.coerce(m2["rel"])
    obj2 = _norm(m2["object"])
    if obj2 and obj2 != obj:
        raise PromptParseError(
            f"object named differently in the two clauses: {obj!r} then {obj2!r}"
        )
    verb = _split_subject(_norm(m2["rest"]), animal)
    return DSRPrompt(
        scene=(m1["scene"] or "").strip(),
        animal=animal,
        object=obj,
        initial=initial,
        final=final,
        verb=verb,
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
        initial=Relation.coerce(match["rel1"]),
        final=Relation.coerce(match["rel2"]),
        verb=words[-1],
    )
