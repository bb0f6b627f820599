"""Validation of candidate prompts: re-parse, compare with declared fields, de-duplicate.

A filter answers "accepted prompt" or a :class:`Reject` with a reason; rejects are data, counted
per reason and written to a rejects file, never raised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from dsr.builders.prompt_backends.base import Candidate
from dsr.errors import PromptParseError
from dsr.prompts import DSRPrompt, DSRType, Relation, normalize_sentence, parse_prompt

__all__ = ["REJECT_REASONS", "Accepted", "PromptPool", "Reject", "validate_candidate"]

#: reason → what it means (shown in the card).
REJECT_REASONS: dict[str, str] = {
    "bad_row": "an input row could not be read (broken CSV/JSON line, missing columns)",
    "bad_response": "an LLM response was not the requested JSON (malformed, wrong schema)",
    "parse_error": (
        "the sentence is not a DSR prompt (parse_prompt failed, e.g. unknown relation word)"
    ),
    "field_mismatch": "the declared fields disagree with what the sentence says",
    "duplicate": "same normalized sentence as an earlier prompt",
    "request_failed": "an LLM request failed after all retries (timeouts, 429, 5xx); not cached",
}
_FIELDS = ("scene", "animal", "object", "initial", "middle", "final", "verb", "dsr_type")


@dataclass(frozen=True)
class Reject:
    """A candidate that did not make it, with why and where it came from."""

    reason: str
    message: str
    source: str
    origin: str
    sentence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Accepted:
    """A valid, unique prompt with its provenance."""

    prompt: DSRPrompt
    source: str
    split_hint: str | None
    origin: str
    source_id: str | None = None

    @property
    def triple(self) -> tuple[str, str, str]:
        """(animal, object, scene): the key of the default train/test disjointness."""
        return (self.prompt.animal, self.prompt.object, _norm(self.prompt.scene))


def _norm(value: Any) -> str:
    return " ".join(str(value or "").split()).strip(",.").lower()


def _parsed_value(parsed: DSRPrompt, name: str) -> str:
    if name == "dsr_type":
        return parsed.dsr_type.code
    value = getattr(parsed, name)
    if value is None:  # the middle of a two-stage prompt
        return ""
    return value.value if isinstance(value, Relation) else str(value)


def _same(name: str, declared: Any, actual: str) -> bool:
    if _norm(declared) == _norm(actual):
        return True
    if name in ("initial", "middle", "final"):  # slow path: other spellings of a relation
        return Relation.coerce(declared).value == actual
    if name == "dsr_type":  # a code in another case, or a letter A-F
        return DSRType.coerce(declared).code == actual
    return False


def _declared_mismatch(parsed: DSRPrompt, fields: Mapping[str, Any]) -> str | None:
    """A message naming the first declared field that disagrees with the parsed sentence."""
    for name in _FIELDS:
        declared = fields.get(name)
        if declared is None:
            continue
        actual = _parsed_value(parsed, name)
        try:
            if _same(name, declared, actual):
                continue
        except PromptParseError as exc:
            return f"declared {name}: {exc}"
        return f"declared {name} {declared!r} but the sentence says {actual!r}"
    return None


def validate_candidate(candidate: Candidate) -> DSRPrompt | Reject:
    """The parsed prompt of ``candidate``, or a Reject saying why it is not one."""

    def reject(reason: str, message: str) -> Reject:
        return Reject(reason, message, candidate.source, candidate.origin, candidate.sentence)

    if candidate.error:
        return reject(*candidate.error)
    try:
        if candidate.sentence:
            parsed = parse_prompt(candidate.sentence)
        elif candidate.fields:
            built = DSRPrompt.from_dict(dict(candidate.fields))
            parsed = parse_prompt(built.render())
            if parsed != built:
                return reject(
                    "parse_error", f"rendered sentence {built.render()!r} does not parse back"
                )
        else:
            return reject("bad_row", "neither a sentence nor prompt fields")
    except PromptParseError as exc:
        return reject("parse_error", str(exc))
    if candidate.fields:
        mismatch = _declared_mismatch(parsed, candidate.fields)
        if mismatch:
            return reject("field_mismatch", mismatch)
    return parsed


class PromptPool:
    """Accepted unique prompts in arrival order, plus the rejects and their counts."""

    def __init__(self) -> None:
        self.accepted: list[Accepted] = []
        self.rejects: list[Reject] = []
        self._seen: set[str] = set()
        self._source_ids: dict[str, str] = {}  # source id → origin of its first row

    def add(self, candidate: Candidate) -> Accepted | Reject:
        result = validate_candidate(candidate)
        if not isinstance(result, Reject) and candidate.source_id in self._source_ids:
            first = self._source_ids[str(candidate.source_id)]
            result = Reject(
                "bad_row",
                f"id {candidate.source_id!r} is already used by {first}",
                candidate.source,
                candidate.origin,
                candidate.sentence,
            )
        if isinstance(result, Reject):
            self.rejects.append(result)
            return result
        key = normalize_sentence(result.render())
        if key in self._seen:
            dup = Reject(
                "duplicate",
                f"duplicate of {result.stable_id()}",
                candidate.source,
                candidate.origin,
                candidate.sentence or result.render(),
            )
            self.rejects.append(dup)
            return dup
        self._seen.add(key)
        if candidate.source_id:
            self._source_ids[candidate.source_id] = candidate.origin
        entry = Accepted(
            result, candidate.source, candidate.split, candidate.origin, candidate.source_id
        )
        self.accepted.append(entry)
        return entry

    def reject_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(r.reason for r in self.rejects).items()))
