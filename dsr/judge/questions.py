"""The VLM judge's two questions (paper §3.5, docs/method.md §7) and the strict parsing of its
answers.

Per video, with the prompt's own fields::

    Is the <animal> initially on the <initial> of the <object>? Answer yes or no.
    Is the <animal> finally on the <final> of the <object>? Answer yes or no.

The relation reads as the prompt grammar writes a static relation ("is on the left of a stump",
docs/method.md §1): ``on the left of``, ``on the right of``, ``on the top of``, and for the
relations of docs/method.md §8 ``under``, ``in front of``, ``behind`` ("Is the cat initially in
front of the log?"). A three-stage prompt is asked about its initial and final relations.

An answer is ``yes`` or ``no`` only when it says so unambiguously (:func:`parse_answer`); anything
else is ``unparsable`` and stays so: it is never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dsr.errors import DataError
from dsr.prompts import Relation

__all__ = [
    "ANSWERS",
    "NO",
    "QUESTION",
    "QUESTION_KINDS",
    "UNPARSABLE",
    "YES",
    "Question",
    "parse_answer",
    "questions_for",
]

YES, NO, UNPARSABLE = "yes", "no", "unparsable"
ANSWERS = (YES, NO, UNPARSABLE)
#: question kind → the word of the question and the prompt field of its relation
QUESTION_KINDS = {"initial": "initially", "final": "finally"}
QUESTION = "Is the {animal} {when} {phrase} the {object}? Answer yes or no."

#: A reasoning model's thoughts, when the server returns them inside the content.
_THINKING = re.compile(r"^\s*<think>.*?</think>", re.DOTALL)
#: Emphasis and quotes around a one-word answer ("**Yes**", "'No.'").
_WRAPPING = "*_`\"' \t\r\n"
_LEAD = re.compile(r"^(yes|no)(?![\w'-])")


@dataclass(frozen=True)
class Question:
    """One question about one video: its kind (``initial``/``final``), the relation it asks about
    and its exact text."""

    kind: str
    relation: str
    text: str


def questions_for(record: Mapping[str, Any]) -> tuple[Question, Question]:
    """The initial and the final question for a sample row (fields ``animal``, ``object``,
    ``initial``, ``final``)."""
    animal, obj = (" ".join(str(record.get(k) or "").split()) for k in ("animal", "object"))
    if not animal or not obj:
        raise DataError(
            f"sample {record.get('sample_id')!r} has no animal or object: rebuild its "
            "samples config"
        )
    out = []
    for kind, when in QUESTION_KINDS.items():
        relation = Relation.coerce(record[kind])
        text = QUESTION.format(animal=animal, when=when, phrase=relation.spec.static, object=obj)
        out.append(Question(kind, relation.value, text))
    return out[0], out[1]


def parse_answer(text: str | None) -> str:
    """``yes``, ``no`` or ``unparsable``.

    Yes/no only when, after dropping a leading ``<think>…</think>`` block, surrounding emphasis
    and quotes, and case, the text starts with the word ``yes`` or ``no`` and the other word does
    not occur: "Yes.", "**No**", "No, it is on the right." parse; "Yes and no", "I think so",
    "Answer: yes", "Nope", "" do not.
    """
    if not text:
        return UNPARSABLE
    body = _THINKING.sub("", text).strip(_WRAPPING).lower()
    lead = _LEAD.match(body)
    if lead is None:
        return UNPARSABLE
    word = lead.group(1)
    other = NO if word == YES else YES
    if re.search(rf"(?<![\w'-]){other}(?![\w'-])", body):
        return UNPARSABLE
    return word
