"""The openai backend for the relations of docs/method.md §8: the paper's six types keep the exact
request (so cached answers stay valid), other types get every relation's wording and schema."""

from __future__ import annotations

from servers.openai import prompt_responder

from dsr.builders.prompt_backends.openai_messages import (
    PROMPT_SCHEMA,
    SYSTEM,
    messages_for,
    response_format,
)
from dsr.builders.prompts import PromptBuildConfig, build_prompts
from dsr.prompts import DSRType


def test_the_papers_types_keep_the_exact_request() -> None:
    system, user = messages_for(DSRType.LT, 4, ["cat"])
    assert system["content"] == SYSTEM
    assert user["content"].startswith(
        "Write 4 prompts where the animal starts on the left of the object and ends on the top of "
        "it (initial=left, final=top). Use mostly these animals: cat;"
    )
    assert response_format(True, DSRType.LT)["json_schema"]["schema"] is PROMPT_SCHEMA


def test_other_types_ask_in_each_relations_wording() -> None:
    system, user = messages_for(DSRType.of("under", "front"), 2, ["cat"])
    assert "under: 'is under a <object>'" in system["content"]
    assert (
        "front: 'is in front of a <object>' / '<verb> in front of the <object>'"
        in (system["content"])
    )
    assert user["content"].startswith(
        "Write 2 prompts where the animal starts under the object and ends in front of it "
        "(initial=under, final=front)."
    )
    schema = response_format(True, DSRType.of("under", "front"))["json_schema"]["schema"]
    item = schema["properties"]["prompts"]["items"]
    assert item["properties"]["initial"]["enum"] == [
        "left",
        "right",
        "top",
        "under",
        "front",
        "behind",
    ]
    three = response_format(True, DSRType.of("left", "under", "right"))["json_schema"]["schema"]
    assert "middle" in three["properties"]["prompts"]["items"]["required"]
    assert "middle" not in item["required"]


def test_openai_build_of_new_types(tmp_path, openai_server, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789")
    openai_server.reset(default=prompt_responder)
    options = {"base_url": openai_server.base_url, "per_request": 2, "backoff": 0.01}
    config = PromptBuildConfig(
        out=tmp_path / "openai-new",
        backend="openai",
        relations="front,behind,under",
        n_train=6,
        n_test=6,
        backend_options=options,
    )
    result = build_prompts(config)
    assert result.counts["test"] == {"UF": 1, "UB": 1, "FU": 1, "FB": 1, "BU": 1, "BF": 1}


def test_a_declared_middle_relation_must_match_the_sentence() -> None:
    from dsr.builders.prompt_backends.base import Candidate
    from dsr.builders.prompt_records import Reject, validate_candidate

    sentence = (
        "A cat is on the left of a box, then the cat hops to the top of the box, then to the "
        "right of the box."
    )
    wrong = validate_candidate(Candidate("x", "o", sentence, {"middle": "under"}))
    assert isinstance(wrong, Reject) and wrong.reason == "field_mismatch"
    right = validate_candidate(Candidate("x", "o", sentence, {"middle": "top"}))
    assert not isinstance(right, Reject) and right.dsr_type.code == "LTR"
