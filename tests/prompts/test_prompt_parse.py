"""parse_prompt: both surface forms, strictness with precise messages, render → parse roundtrip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsr.errors import PromptParseError
from dsr.prompts import DSRPrompt, DSRType, Relation, parse_prompt

SCENE = "In a narrow attic with a floor lamp and shadows from the window blinds"


def test_parses_the_canonical_sentence() -> None:
    text = f"{SCENE}, a cat is on the left of a box, then the cat prowls to the top of the box."
    assert parse_prompt(text) == DSRPrompt(
        SCENE, "cat", "box", Relation.LEFT, Relation.TOP, "prowls"
    )


def test_parses_the_spec_from_to_example() -> None:
    parsed = parse_prompt("a fox sprints from the left of a chair to the right of the chair")
    assert parsed == DSRPrompt("", "fox", "chair", "left", "right", "sprints")
    assert parsed.dsr_type is DSRType.LR


def test_accepts_free_noun_phrases_case_and_spacing() -> None:
    text = (
        "At dusk,  A Red Fox is on the right of a wooden crate , then the red fox Trots to the top "
        "of the wooden crate!"
    )
    parsed = parse_prompt(text)
    assert (parsed.animal, parsed.object, parsed.verb) == ("red fox", "wooden crate", "trots")
    assert (parsed.initial, parsed.final, parsed.scene) == (Relation.RIGHT, Relation.TOP, "At dusk")


@pytest.mark.parametrize("side", ["left", "left side", "left hand side", "left-hand side"])
def test_relation_may_be_named_as_a_side(side: str) -> None:
    parsed = parse_prompt(
        f"a cat is on the {side} of a box, then the cat walks to the top of the box"
    )
    assert parsed.initial is Relation.LEFT


def test_scene_may_itself_contain_commas_and_articles() -> None:
    text = (
        "In a garden, a bench nearby, a duck is on the top of a stump, then the duck waddles to "
        "the left of the stump."
    )
    parsed = parse_prompt(text)
    assert (parsed.scene, parsed.animal, parsed.object) == (
        "In a garden, a bench nearby",
        "duck",
        "stump",
    )


def test_from_to_form_with_scene_and_an() -> None:
    parsed = parse_prompt(
        "In a meadow, an owl glides from the top of an old stump to the left of the old stump."
    )
    assert parsed == DSRPrompt("In a meadow", "owl", "old stump", "top", "left", "glides")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a cat is on the bottom of a box, then the cat walks to the top of the box", "'bottom'"),
        ("a cat is on the left of a box, then the cat walks to the under of the box", "'under'"),
        (
            "a cat is on the top-left of a box, then the cat walks to the top of the box",
            "'top-left'",
        ),
        (
            "a cat is on the left of a box, then the dog walks to the top of the box",
            "'cat' then 'dog'",
        ),
        ("a cat is on the left of a box, then the cat walks to the left of the box", "both 'left'"),
        ("a cat is on the left, then the cat walks to the top of the box", "missing object"),
        (
            "a cat is on the left of a box, then the cat walks to the top of the crate",
            "'box' then 'crate'",
        ),
        ("a cat is on the left of a box, then the cat walks beside the box", "second clause"),
        ("the cat sits on a box, then the cat walks to the top of the box", "first clause"),
        ("a fox runs from the left of a chair to the right of the sofa", "'chair' then 'sofa'"),
        ("a fox from the left of a chair to the right of the chair", "cannot tell the animal"),
        ("a fox runs from the left of a chair to the left of the chair", "both 'left'"),
        ("a cat sleeps on a sofa", "not a DSR prompt"),
        ("   ", "empty prompt"),
    ],
)
def test_rejects_non_dsr_text_naming_the_problem(text: str, message: str) -> None:
    with pytest.raises(PromptParseError, match=message):
        parse_prompt(text)


def test_rejects_non_strings() -> None:
    with pytest.raises(PromptParseError, match="empty prompt"):
        parse_prompt(None)


@pytest.mark.parametrize("dsr_type", list(DSRType))
@pytest.mark.parametrize("scene", ["", SCENE])
def test_render_then_parse_gives_the_same_record(dsr_type: DSRType, scene: str) -> None:
    prompt = DSRPrompt(
        scene, "hamster", "wicker basket", dsr_type.initial, dsr_type.final, "scurries"
    )
    assert parse_prompt(prompt.render()) == prompt
    assert parse_prompt(prompt.render_from_to()) == prompt


_WORD = st.sampled_from(
    [
        "red",
        "fox",
        "cat",
        "old",
        "wooden",
        "crate",
        "stump",
        "duck",
        "little",
        "grey",
        "rabbit",
        "sofa",
    ]
)
_PHRASE = st.lists(_WORD, min_size=1, max_size=3).map(" ".join)
_SCENE = st.lists(
    st.sampled_from(["In a barn", "at dusk", "with a lamp", "near a window", "a rug on the floor"]),
    max_size=3,
).map(", ".join)


@settings(max_examples=150, deadline=None)
@given(
    scene=_SCENE,
    animal=_PHRASE,
    obj=_PHRASE,
    dsr_type=st.sampled_from(list(DSRType)),
    verb=st.sampled_from(["hops", "walks", "flutters", "sneaks", "scurries"]),
)
def test_roundtrip_property(
    scene: str, animal: str, obj: str, dsr_type: DSRType, verb: str
) -> None:
    prompt = DSRPrompt(scene, animal, obj, dsr_type.initial, dsr_type.final, verb)
    assert parse_prompt(prompt.render()) == prompt
    assert parse_prompt(prompt.render_from_to()) == prompt
