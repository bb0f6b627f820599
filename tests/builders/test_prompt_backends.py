"""Prompt backends: the template grammar, the openai backend against a loopback server driven by
the real openai client, and the file importer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from servers.openai import Reply

from dsr.builders.prompt_backends import PROMPT_BACKENDS, BackendContext
from dsr.builders.prompt_backends.vocab import ANIMAL_VERBS
from dsr.builders.prompt_records import PromptPool
from dsr.errors import ConfigError, DataError
from dsr.prompts import DSRPrompt, DSRType, parse_prompt

ALL = {t: 1 for t in DSRType}


def make(name: str, tmp_path: Path, seed: int = 0, **options):
    return PROMPT_BACKENDS.resolve(name)(BackendContext(seed, tmp_path / "cache", options))


def record(dsr_type: DSRType, i: int, **override) -> dict[str, str]:
    """A valid LLM record for ``dsr_type`` (scene made unique by ``i``)."""
    fields = {
        "scene": f"In garden number {i} with roses",
        "animal": "cat",
        "object": "bench",
        "initial": dsr_type.initial.value,
        "final": dsr_type.final.value,
        "verb": "prowls",
    }
    fields.update(override)
    sentence = DSRPrompt.from_dict(fields).render()
    return {**fields, "sentence": override.pop("sentence", sentence)}


def pool_of(backend, wanted=ALL, round_index=0) -> PromptPool:
    pool = PromptPool()
    for candidate in backend.generate(wanted, round_index):
        pool.add(candidate)
    return pool


# -- template ----------------------------------------------------------------------------------
def test_template_is_deterministic_distinct_and_parses(tmp_path):
    wanted = {t: 104 for t in DSRType}  # 624 >= the 620 of the paper
    first = [c.sentence for c in make("template", tmp_path).generate(wanted, 0)]
    again = [c.sentence for c in make("template", tmp_path).generate(wanted, 0)]
    other = [c.sentence for c in make("template", tmp_path, seed=1).generate(wanted, 0)]
    assert first == again and first != other
    pool = pool_of(make("template", tmp_path), wanted)
    assert len(pool.accepted) >= 620 and not [r for r in pool.rejects if r.reason != "duplicate"]
    for entry in pool.accepted[:200]:
        assert entry.prompt.verb in ANIMAL_VERBS[entry.prompt.animal]
        assert parse_prompt(entry.prompt.render()) == entry.prompt


# words that only fit one setting: a composed scene must not mix them
INDOOR_ONLY = (
    "window",
    "floor lamp",
    "tiled floor",
    "fireplace",
    "rug",
    "curtain",
    "glow of a lamp",
    "sofa",
    "cushion",
    "armchair",
)
OUTDOOR_ONLY = ("sky", "misty", "windy", "fence", "tall grass", "hay bale", "boulder", "stump")
INDOOR_PLACES = (
    "attic",
    "living room",
    "kitchen",
    "basement",
    "bedroom",
    "library",
    "cellar",
    "hallway",
)
OUTDOOR_PLACES = (
    "beach",
    "meadow",
    "forest",
    "park",
    "hillside",
    "riverbank",
    "lake shore",
    "country path",
)


def test_template_scenes_and_objects_fit_indoors_or_outdoors(tmp_path):
    wanted = {t: 104 for t in DSRType}
    for c in make("template", tmp_path).generate(wanted, 0):
        text = f"{c.fields['scene']} {c.fields['object']}".lower()
        if any(p in c.fields["scene"].lower() for p in OUTDOOR_PLACES):
            assert not [w for w in INDOOR_ONLY if w in text], c.sentence
        if any(p in c.fields["scene"].lower() for p in INDOOR_PLACES):
            assert not [w for w in OUTDOOR_ONLY if w in text], c.sentence


def test_template_later_rounds_draw_new_prompts(tmp_path):
    backend = make("template", tmp_path)
    a = {c.sentence for c in backend.generate(ALL, 0)}
    b = {c.sentence for c in backend.generate(ALL, 1)}
    assert a and b and not a & b


# -- openai ------------------------------------------------------------------------------------
def openai_backend(tmp_path, server, **options):
    opts = {
        "base_url": server.base_url,
        "per_request": 2,
        "timeout": 0.5,
        "max_retries": 2,
        "backoff": 0.01,
        "concurrency": 2,
        "oversample": 1.0,
        **options,
    }
    return make("openai", tmp_path, **opts)


def test_openai_good_response_uses_schema_and_key(tmp_path, openai_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    lr = DSRType.LR
    openai_server.push(Reply.json({"prompts": [record(lr, 1), record(lr, 2)]}))
    pool = pool_of(openai_backend(tmp_path, openai_server), {lr: 2})
    assert [e.prompt.dsr_type for e in pool.accepted] == [lr, lr]
    assert pool.accepted[0].source == "openai:gpt-4o"
    body = openai_server.bodies[0]
    assert body["response_format"]["type"] == "json_schema" and body["model"] == "gpt-4o"
    assert "left" in body["messages"][1]["content"] and "right" in body["messages"][1]["content"]
    assert openai_server.auth_headers[0] == "Bearer sk-test-0123456789abcdef"


def test_openai_requests_vary_their_animal_object_and_place_hints(tmp_path, openai_server):
    from dsr.builders.prompt_backends.vocab import OBJECTS, PLACES

    openai_server.reset(default=lambda body: Reply.json({"prompts": []}))
    pool_of(openai_backend(tmp_path, openai_server, per_request=1), {DSRType.LR: 4})
    users = [b["messages"][1]["content"] for b in openai_server.bodies]
    assert len(users) == 4 and len(set(users)) == 4
    for text in users:
        assert sum(f" {o}" in text for o in OBJECTS) >= 3 and sum(p in text for p in PLACES) >= 2


def test_openai_bad_records_are_rejects_with_reasons(tmp_path, openai_server):
    lr = DSRType.LR
    records = [
        record(lr, 1),
        record(lr, 2, sentence="A cat sits near a bench."),  # not a DSR prompt
        record(lr, 3, animal="dog"),  # sentence says cat... see below
        record(lr, 4, final="top"),  # declares top, sentence says right
        "not a record",
        record(lr, 1),  # duplicate
    ]
    records[2]["sentence"] = record(lr, 3)["sentence"]  # cat sentence, dog declared
    records[3]["sentence"] = record(lr, 4)["sentence"]
    openai_server.push(
        Reply.json({"prompts": records[:3]}),
        Reply.json({"prompts": records[3:]}),
        Reply.text('{"prompts": [ {"scene": "broken'),
    )
    pool = pool_of(openai_backend(tmp_path, openai_server, per_request=2), {lr: 5})
    assert len(pool.accepted) == 1
    assert pool.reject_counts() == {
        "bad_response": 2,
        "duplicate": 1,
        "field_mismatch": 2,
        "parse_error": 1,
    }
    messages = " ".join(r.message for r in pool.rejects)
    assert "declared animal 'dog'" in messages and "declared final 'top'" in messages


def test_openai_retries_429_then_succeeds_and_caches(tmp_path, openai_server):
    tl = DSRType.TL
    openai_server.push(
        Reply.error(429, retry_after=0),
        Reply.error(503),
        Reply.json({"prompts": [record(tl, 1), record(tl, 2)]}),
    )
    backend = openai_backend(tmp_path, openai_server)
    assert len(pool_of(backend, {tl: 2}).accepted) == 2
    assert openai_server.requests == 3
    again = pool_of(openai_backend(tmp_path, openai_server), {tl: 2})
    assert len(again.accepted) == 2 and openai_server.requests == 3  # served from the cache


def test_openai_retries_408_like_the_openai_client(tmp_path, openai_server):
    tl = DSRType.TL
    openai_server.push(Reply.error(408), Reply.json({"prompts": [record(tl, 1), record(tl, 2)]}))
    assert len(pool_of(openai_backend(tmp_path, openai_server), {tl: 2}).accepted) == 2


def test_openai_fatal_error_sends_no_queued_request(tmp_path, openai_server):
    openai_server.reset(default=lambda body: Reply.error(401))
    backend = openai_backend(tmp_path, openai_server, concurrency=1, per_request=1)
    with pytest.raises(ConfigError, match="API key"):
        pool_of(backend, {t: 5 for t in DSRType})  # 30 requests queued behind the first
    assert openai_server.requests <= 2  # the worker may take one more before the error reaches us


def test_openai_cache_ignores_a_trailing_slash_of_the_base_url(tmp_path, openai_server):
    lr = DSRType.LR
    openai_server.push(Reply.json({"prompts": [record(lr, 1), record(lr, 2)]}))
    assert len(pool_of(openai_backend(tmp_path, openai_server), {lr: 2}).accepted) == 2
    slash = openai_backend(tmp_path, openai_server, base_url=openai_server.base_url + "/")
    assert len(pool_of(slash, {lr: 2}).accepted) == 2 and openai_server.requests == 1


def test_openai_base_url_from_the_environment_needs_no_key(tmp_path, openai_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    lr = DSRType.LR
    openai_server.push(Reply.json({"prompts": [record(lr, 1), record(lr, 2)]}))
    backend = make("openai", tmp_path, per_request=2, oversample=1.0)
    assert len(pool_of(backend, {lr: 2}).accepted) == 2 and openai_server.requests == 1


def test_paper_animals_and_objects_are_in_the_template_vocabulary():
    from dsr.builders.prompt_backends.vocab import OBJECTS

    assert {"rabbit", "hamster", "squirrel", "cat", "dog", "fox", "duck", "bird"} <= set(
        ANIMAL_VERBS
    )
    paper_objects = {
        "stump",
        "rock",
        "bench",
        "chair",
        "crate",
        "sofa",
        "basket",
        "stone",
        "pot",
        "box",
        "stool",
        "cushion",
    }
    assert paper_objects <= set(OBJECTS)


def test_openai_hung_request_times_out_then_retries(tmp_path, openai_server):
    rt = DSRType.RT
    openai_server.push(Reply.hang(10), Reply.json({"prompts": [record(rt, 1), record(rt, 2)]}))
    pool = pool_of(openai_backend(tmp_path, openai_server, timeout=0.3, concurrency=1), {rt: 2})
    assert len(pool.accepted) == 2 and openai_server.requests == 2


def test_openai_gives_up_without_stopping_and_caches_nothing(tmp_path, openai_server):
    openai_server.push(*[Reply.error(500)] * 3)
    pool = pool_of(
        openai_backend(tmp_path, openai_server, max_retries=2, concurrency=1), {DSRType.RL: 2}
    )
    assert pool.reject_counts() == {"request_failed": 1}
    assert not list((tmp_path / "cache").rglob("*.json"))


def test_openai_auth_error_and_missing_key_are_config_errors(tmp_path, openai_server, monkeypatch):
    openai_server.push(Reply.error(401))
    with pytest.raises(ConfigError, match="API key"):
        pool_of(openai_backend(tmp_path, openai_server))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        pool_of(make("openai", tmp_path / "other"))


# -- file --------------------------------------------------------------------------------------
GOOD = "In a barn, a cat is on the left of a crate, then the cat jumps to the top of the crate."


def test_file_csv_bad_rows_named_by_line(tmp_path):
    path = tmp_path / "prompts.csv"
    path.write_text(
        "prompt,split\n"
        f'"{GOOD}",test\n'
        '"A fox is on the behind of a rock, then the fox trots to the left of the rock.",train\n'
        '"broken, row",train,extra\n'
        '"A dog is on the right of a sofa, then the dog trots to the left of the sofa.",\n'
    )
    pool = pool_of(make("file", tmp_path, path=str(path)))
    assert len(pool.accepted) == 2 and pool.accepted[0].split_hint == "test"
    by_reason = {r.reason: r for r in pool.rejects}
    assert (
        by_reason["parse_error"].origin == "prompts.csv:3"
        and "behind" in by_reason["parse_error"].message
    )
    assert (
        by_reason["bad_row"].origin == "prompts.csv:4" and "line 4" in by_reason["bad_row"].message
    )


def test_file_structured_jsonl_and_txt(tmp_path):
    jsonl = tmp_path / "p.jsonl"
    rows = [
        record(DSRType.LT, 1),
        {
            "animal": "duck",
            "object": "pot",
            "initial": "top",
            "final": "right",
            "verb": "waddles",
            "dsr_type": "TR",
        },
        {"prompt": GOOD, "dsr_type": "LR"},
    ]
    jsonl.write_text("\n".join(json.dumps(r) for r in rows) + "\n{oops\n")
    pool = pool_of(make("file", tmp_path, path=str(jsonl)))
    assert len(pool.accepted) == 2
    assert {r.reason for r in pool.rejects} == {"field_mismatch", "bad_row"}
    assert any(r.origin == "p.jsonl:4" for r in pool.rejects)
    txt = tmp_path / "p.txt"
    txt.write_text(f"# the paper's examples\n\n{GOOD}\n")
    assert len(pool_of(make("file", tmp_path, path=str(txt))).accepted) == 1


def test_file_empty_and_bad_header_are_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match=re.escape("empty.csv:1")):
        pool_of(make("file", tmp_path, path=str(empty)))
    header_only = tmp_path / "h.csv"
    header_only.write_text("prompt\n")
    with pytest.raises(DataError, match="no prompt rows"):
        pool_of(make("file", tmp_path, path=str(header_only)))
    bad = tmp_path / "bad.csv"
    bad.write_text("text\nhello\n")
    with pytest.raises(DataError, match="header"):
        pool_of(make("file", tmp_path, path=str(bad)))
    with pytest.raises(ConfigError, match="suffix"):
        make("file", tmp_path, path=str(tmp_path / "x.xlsx"))
