"""The DSR prompt data model: relations, the six DSR types, the prompt record and its sentence."""

from __future__ import annotations

import pytest

from dsr.errors import PromptParseError
from dsr.prompts import DSRPrompt, DSRType, Relation, normalize_sentence


def _prompt(**changes: object) -> DSRPrompt:
    fields: dict[str, object] = dict(
        scene="In a sunlit barn",
        animal="cat",
        object="crate",
        initial="left",
        final="top",
        verb="jumps",
    )
    fields.update(changes)
    return DSRPrompt(**fields)


@pytest.mark.parametrize("value", ["left", "LEFT", " Left ", Relation.LEFT])
def test_relation_coerce_accepts_enum_and_names_in_any_case(value: object) -> None:
    assert Relation.coerce(value) is Relation.LEFT


def test_relation_coerce_rejects_unknown_word_naming_it() -> None:
    with pytest.raises(PromptParseError, match="'bottom'.*left, right, top"):
        Relation.coerce("bottom")


def test_prompt_parse_error_is_a_value_error() -> None:
    assert issubclass(PromptParseError, ValueError)


def test_dsr_types_follow_the_papers_a_to_f_order() -> None:
    assert [t.code for t in DSRType] == ["LT", "TL", "RT", "LR", "TR", "RL"]
    assert [t.letter for t in DSRType] == list("ABCDEF")
    assert (DSRType.RT.initial, DSRType.RT.final) == (Relation.RIGHT, Relation.TOP)
    assert [r.letter for r in Relation] == ["L", "R", "T"]


@pytest.mark.parametrize("dsr_type", list(DSRType))
def test_dsr_type_from_relations_and_coerce(dsr_type: DSRType) -> None:
    assert DSRType.from_relations(dsr_type.initial, dsr_type.final.value) is dsr_type
    assert DSRType.coerce(dsr_type.code.lower()) is dsr_type
    assert DSRType.coerce(dsr_type.letter) is dsr_type
    assert DSRType.coerce(dsr_type) is dsr_type


def test_dsr_type_rejects_unchanged_relation_and_unknown_codes() -> None:
    with pytest.raises(PromptParseError, match="left→left is not one of the six"):
        DSRType.from_relations("left", "left")
    with pytest.raises(PromptParseError, match="'XY'"):
        DSRType.coerce("XY")
    with pytest.raises(PromptParseError, match="'G'"):
        DSRType.coerce("G")


def test_render_gives_the_canonical_sentence_of_the_spec() -> None:
    assert _prompt().render() == (
        "In a sunlit barn, a cat is on the left of a crate, then the cat jumps to the top of the "
        "crate."
    )
    assert _prompt(scene="", animal="owl", object="armchair").render() == (
        "An owl is on the left of an armchair, then the owl jumps to the top of the armchair."
    )
    assert _prompt(initial="right", final="left").render_from_to() == (
        "In a sunlit barn, a cat jumps from the right of a crate to the left of the crate."
    )


def test_record_normalizes_whitespace_case_and_scene_comma() -> None:
    prompt = _prompt(
        scene="  In a   barn , ", animal=" Red  Fox", object="Wooden Crate", verb="Leaps"
    )
    assert (prompt.scene, prompt.animal, prompt.object, prompt.verb) == (
        "In a barn",
        "red fox",
        "wooden crate",
        "leaps",
    )
    assert prompt.initial is Relation.LEFT and prompt.dsr_type is DSRType.LT
    assert _prompt(scene=None).scene == ""


def test_record_rejects_unchanged_relation_and_empty_fields() -> None:
    with pytest.raises(PromptParseError, match="both 'top'"):
        _prompt(initial="top", final="top")
    with pytest.raises(PromptParseError, match="non-empty animal"):
        _prompt(animal="  ")
    with pytest.raises(PromptParseError, match="non-empty verb"):
        _prompt(verb="")
    with pytest.raises(PromptParseError, match="'inside'"):
        _prompt(final="inside")


def test_dict_roundtrip_and_missing_fields() -> None:
    prompt = _prompt()
    data = prompt.to_dict()
    assert data["initial"] == "left" and data["dsr_type"] == "LT"
    assert data["prompt"] == prompt.render()
    assert DSRPrompt.from_dict(data) == prompt
    with pytest.raises(PromptParseError, match="lacks object, verb"):
        DSRPrompt.from_dict({"animal": "cat", "initial": "left", "final": "top"})


def test_stable_id_depends_only_on_the_normalized_sentence() -> None:
    a, b = _prompt(), _prompt(scene="In a sunlit   barn,")
    assert a.stable_id() == b.stable_id()
    assert a.stable_id().startswith("lt-") and len(a.stable_id()) == 13
    assert a.stable_id() != _prompt(verb="hops").stable_id()


def test_prompts_are_frozen() -> None:
    with pytest.raises(AttributeError):
        _prompt().animal = "dog"


def test_normalize_sentence() -> None:
    assert normalize_sentence("  A Cat,  is HERE. ") == "a cat is here"
