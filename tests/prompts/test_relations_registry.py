"""The relations registry beyond the paper's three, the generalised DSR types, and the sentences of
the new relations and of three-stage prompts (docs/method.md §8)."""

from __future__ import annotations

import pickle

import pytest

from dsr.errors import PromptParseError
from dsr.prompts import (
    BOXES,
    BOXES_AND_DEPTH,
    DSRPrompt,
    DSRType,
    Relation,
    all_relations,
    dsr_types,
    parse_prompt,
    relation_spec,
)


def test_registry_lists_six_relations_with_distinct_letters_and_iteration_stays_the_papers() -> (
    None
):
    assert [r.value for r in all_relations()] == [
        "left",
        "right",
        "top",
        "under",
        "front",
        "behind",
    ]
    assert [r.letter for r in all_relations()] == ["L", "R", "T", "U", "F", "B"]
    assert list(Relation) == [Relation.LEFT, Relation.RIGHT, Relation.TOP]
    assert list(DSRType) == [DSRType.LT, DSRType.TL, DSRType.RT, DSRType.LR, DSRType.TR, DSRType.RL]


def test_each_relation_declares_needs_and_opposite() -> None:
    needs = {r.value: relation_spec(r).needs for r in all_relations()}
    assert needs == {
        "left": BOXES,
        "right": BOXES,
        "top": BOXES,
        "under": BOXES,
        "front": BOXES_AND_DEPTH,
        "behind": BOXES_AND_DEPTH,
    }
    opposite = {r.value: (o.value if (o := r.spec.opposite) else None) for r in all_relations()}
    assert opposite == {
        "left": "right",
        "right": "left",
        "top": None,
        "under": None,
        "front": "behind",
        "behind": "front",
    }


@pytest.mark.parametrize(
    ("word", "relation"),
    [("beneath", "under"), ("Below", "under"), ("underneath", "under"), ("back", "behind")],
)
def test_relation_words_coerce(word: str, relation: str) -> None:
    assert Relation.coerce(word) is Relation(relation)


def test_any_pair_of_different_relations_is_a_type_with_a_two_letter_code() -> None:
    uf = DSRType.of("under", "front")
    assert (uf.code, uf.letter, uf.paper, uf.initial, uf.final) == (
        "UF",
        "",
        False,
        Relation.UNDER,
        Relation.FRONT,
    )
    assert DSRType.coerce("uf") is uf and DSRType.from_relations("under", "front") is uf
    assert pickle.loads(pickle.dumps(uf)) is uf
    assert DSRType.coerce("LR") is DSRType.LR and DSRType.coerce("F") is DSRType.RL  # letter F
    with pytest.raises(PromptParseError):
        DSRType.coerce("UU")
    with pytest.raises(PromptParseError):
        DSRType.of("left", "left", "top")


def test_dsr_types_of_all_relations_keep_the_papers_six_first() -> None:
    types = dsr_types(all_relations())
    assert len(types) == 30  # 6 × 5 ordered pairs
    assert types[:6] == tuple(DSRType)
    assert [t.code for t in types[6:9]] == ["LU", "LF", "LB"]
    assert dsr_types() == tuple(DSRType)
    triples = dsr_types(["left", "top", "under"], stages=3)
    assert len(triples) == 12 and all(t.middle is not None for t in triples)  # 3 × 2 × 2


@pytest.mark.parametrize(
    ("sentence", "relations"),
    [
        (
            "In a cosy den, a cat is under a table, then the cat crawls to the left of the table.",
            ("under", "left"),
        ),
        ("A fox is in front of a log, then the fox slinks behind the log.", ("front", "behind")),
        ("A dog is behind a sofa, then the dog trots in front of the sofa.", ("behind", "front")),
        ("A cat is beneath a chair, then the cat jumps to the top of the chair.", ("under", "top")),
        (
            "A cat is at the back of a crate, then the cat walks under the crate.",
            ("behind", "under"),
        ),
        ("A duck waddles from under a bench to the front of the bench.", ("under", "front")),
        ("A duck waddles from the back of a bench to the left of the bench.", ("behind", "left")),
        (
            "A cat is on the left of a box, then the cat prowls to the top of the box, then to "
            "the right of the box.",
            ("left", "top", "right"),
        ),
        (
            "A cat is under a table, then the cat creeps in front of the table, then behind the "
            "table.",
            ("under", "front", "behind"),
        ),
    ],
)
def test_parser_reads_the_new_wordings(sentence: str, relations: tuple[str, ...]) -> None:
    assert parse_prompt(sentence).dsr_type is DSRType.of(*relations)


@pytest.mark.parametrize(
    "sentence",
    [
        "a cat is on the left of a box, then the cat walks to the under of the box",
        "a cat is on the behind of a box, then the cat walks to the top of the box",
        "a cat is under a box, then the cat walks under the box",
    ],
)
def test_parser_refuses_wordings_a_relation_does_not_take(sentence: str) -> None:
    with pytest.raises(PromptParseError):
        parse_prompt(sentence)


def test_canonical_sentences_of_new_types_and_three_stages() -> None:
    two = DSRPrompt("In a yard", "cat", "log", "left", "front", "walks")
    assert (
        two.render()
        == "In a yard, a cat is on the left of a log, then the cat walks in front of the log."
    )
    assert (
        two.render_from_to()
        == "In a yard, a cat walks from the left of a log to the front of the log."
    )
    three = DSRPrompt("", "cat", "table", "under", "behind", "creeps", middle="top")
    assert three.render() == (
        "A cat is under a table, then the cat creeps to the top of the table, then behind the "
        "table."
    )
    assert three.dsr_type.code == "UTB" and three.to_dict()["middle"] == "top"
    assert "middle" not in two.to_dict()
    for prompt in (two, three):
        assert parse_prompt(prompt.render()) == prompt
        assert DSRPrompt.from_dict(prompt.to_dict()) == prompt
