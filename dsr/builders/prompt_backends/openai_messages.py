"""The chat messages and the JSON schema the openai backend sends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dsr.prompts import DSRType, all_relations

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


def _extended_system() -> str:
    """The system message for types beyond the paper's: the same rules, with every registered
    relation's wording (docs/method.md §8) and the optional third stage."""
    wordings = "; ".join(
        f"{r.value}: 'is {r.spec.static} a <object>' / '<verb> {r.spec.motion} the <object>'"
        for r in all_relations()
    )
    return SYSTEM.replace(
        "<Scene>, a <animal> is on the <initial> of a <object>, then the <animal> <verb> to the "
        "<final> of the <object>.\n"
        "Rules: <initial> and <final> are one of left, right, top.",
        "<Scene>, a <animal> is <initial wording> a <object>, then the <animal> <verb> <final "
        "wording> the <object>.\nA three-stage prompt adds ', then <final wording> the <object>' "
        "after the middle relation's wording. Rules: the relations are said exactly so: "
        f"{wordings}.",
    )


def _relation_schema(dsr_type: DSRType) -> dict[str, Any]:
    """PROMPT_SCHEMA, or for a type beyond the paper's six, with every relation (and a middle)."""
    if dsr_type.paper:
        return PROMPT_SCHEMA
    field = {"type": "string", "enum": [r.value for r in all_relations()]}
    item = dict(PROMPT_SCHEMA["properties"]["prompts"]["items"])
    properties = {**item["properties"], "initial": field, "final": field}
    required = list(item["required"])
    if dsr_type.middle is not None:
        properties["middle"] = field
        required.insert(required.index("final"), "middle")
    item.update(properties=properties, required=required)
    return {**PROMPT_SCHEMA, "properties": {"prompts": {"type": "array", "items": item}}}


def _ask(dsr_type: DSRType, n: int) -> str:
    """The request for ``n`` prompts of ``dsr_type`` (the paper's wording for its six types)."""
    if dsr_type.paper:
        i, f = dsr_type.initial.value, dsr_type.final.value
        return (
            f"Write {n} prompts where the animal starts on the {i} of the object and ends on the "
            f"{f} of it (initial={i}, final={f})."
        )
    steps = [r.spec.static for r in dsr_type.relations]
    keys = ("initial", "middle", "final") if len(steps) == 3 else ("initial", "final")
    names = ", ".join(f"{k}={r.value}" for k, r in zip(keys, dsr_type.relations, strict=True))
    middle = f", moves {dsr_type.relations[1].spec.motion} it" if len(steps) == 3 else ""
    return (
        f"Write {n} prompts where the animal starts {steps[0]} the object{middle} and ends "
        f"{steps[-1]} it ({names})."
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
        f"{_ask(dsr_type, n)} Use mostly these animals: {', '.join(animals)}; and other "
        "animals too if they fit."
    )
    if objects:
        user += f" Objects to draw from, among others: {', '.join(objects)}."
    if places:
        user += f" Start from places such as: {'; '.join(places)}; invent the details."
    system = SYSTEM if dsr_type.paper else _extended_system()
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def response_format(structured: bool, dsr_type: DSRType | None = None) -> dict[str, Any]:
    """The ``response_format`` of a request: a strict JSON schema, or plain JSON mode. The schema
    admits every relation (and a middle one) for a type beyond the paper's six."""
    if not structured:
        return {"type": "json_object"}
    schema = PROMPT_SCHEMA if dsr_type is None else _relation_schema(dsr_type)
    return {
        "type": "json_schema",
        "json_schema": {"name": "dsr_prompts", "strict": True, "schema": schema},
    }
