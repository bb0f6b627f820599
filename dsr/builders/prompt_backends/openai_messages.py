"""The chat messages and the JSON schema the openai backend sends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dsr.prompts import DSRType

__all__ = ["PROMPT_SCHEMA", "messages_for", "response_format"]

_RELATION_FIELD = {"type": "string", "enum": ["left", "right", "top"]}

#: JSON schema of one response: a list of prompt records with their sentence.
PROMPT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["prompts"],
    "properties": {
        "prompts": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["scene", "animal", "object", "initial", "final", "verb", "sentence"],
                "properties": {
                    "scene": {"type": "string"},
                    "animal": {"type": "string"},
                    "object": {"type": "string"},
                    "initial": _RELATION_FIELD,
                    "final": _RELATION_FIELD,
                    "verb": {"type": "string"},
                    "sentence": {"type": "string"},
                },
            },
        }
    },
}

SYSTEM = (
    "You write prompts for a text-to-video benchmark of dynamic spatial relations. Each prompt has "
    "exactly this form:\n"
    "<Scene>, a <animal> is on the <initial> of a <object>, then the <animal> <verb> to the "
    "<final> of the <object>.\n"
    "Rules: <initial> and <final> are one of left, right, top. <animal> is one common animal noun, "
    "<object> one static, everyday object an animal can stand beside or on (a stump, bench, crate, "
    "sofa, ...). <verb> is a single third-person motion verb that fits how this animal moves (a "
    "bird flutters or hops, a cat prowls, a duck waddles, a hamster scurries). <Scene> is a short "
    "place description with one or two details of light, furniture or ambience, without commas and "
    "without the word 'then' (e.g. 'In a narrow attic with a floor lamp and shadows from the "
    "window blinds'). Repeat the animal and object words exactly in both clauses. Make the prompts "
    "diverse: different scenes, animals, objects and verbs; never repeat a scene. Answer with JSON "
    'only: {"prompts": [{"scene", "animal", "object", "initial", "final", "verb", "sentence"}, '
    "...]} where sentence is the full prompt and the other fields repeat its parts."
)


def messages_for(
    dsr_type: DSRType,
    n: int,
    animals: Sequence[str],
    objects: Sequence[str] = (),
    places: Sequence[str] = (),
) -> list[dict[str, str]]:
    """The messages asking for ``n`` prompts of one DSR type, suggesting animals, objects and
    places (a different draw per request, so that independent requests do not all converge on the
    same few favourites)."""
    user = (
        f"Write {n} prompts where the animal starts on the {dsr_type.initial.value} of the object "
        f"and ends on the {dsr_type.final.value} of it (initial={dsr_type.initial.value}, "
        f"final={dsr_type.final.value}). Use mostly these animals: {', '.join(animals)}; and other "
        "animals too if they fit."
    )
    if objects:
        user += f" Objects to draw from, among others: {', '.join(objects)}."
    if places:
        user += f" Start from places such as: {'; '.join(places)}; invent the details."
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def response_format(structured: bool) -> dict[str, Any]:
    """The ``response_format`` of a request: a strict JSON schema, or plain JSON mode."""
    if not structured:
        return {"type": "json_object"}
    return {
        "type": "json_schema",
        "json_schema": {"name": "dsr_prompts", "strict": True, "schema": PROMPT_SCHEMA},
    }
