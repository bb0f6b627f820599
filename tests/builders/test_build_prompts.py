"""build_prompts end to end: balanced disjoint splits, the written config, caching, strict mode,
the CLI, and that no secret reaches any written file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from servers.openai import Reply, prompt_responder

import dsr
from dsr.builders.folder import DatasetFolder
from dsr.builders.prompts import PROMPT_COLUMNS, PromptBuildConfig, build_prompts
from dsr.errors import ConfigError, DataError
from dsr.prompts import DSRPrompt, DSRType, parse_prompt

OPENAI_KEY = "sk-secret-test-key-0123456789"


def load(folder: Path):
    import datasets

    # force_redownload and one folder name per test: the datasets cache can hand back another
    # folder's rows when two local folders share a name and their card's configs
    return datasets.load_dataset(str(folder), "prompts", download_mode="force_redownload")


def test_template_build_is_balanced_disjoint_and_loadable(tmp_path):
    out = tmp_path / tmp_path.name
    result = build_prompts(
        PromptBuildConfig(out=out, n_train=31, n_test=12, seed=3, command="dsr build-prompts x")
    )
    assert result.counts["train"] == {
        "LT": 6,
        "TL": 5,
        "RT": 5,
        "LR": 5,
        "TR": 5,
        "RL": 5,
    }  # the 31st to type A
    assert result.counts["test"] == {t.code: 2 for t in DSRType}
    ds = load(out)
    assert list(ds["train"].features) == [
        "prompt_id",
        "prompt",
        "scene",
        "animal",
        "object",
        "initial",
        "final",
        "dsr_type",
        "dsr_letter",
        "verb",
        "split",
        "source",
        "source_id",
    ]
    assert all(f.dtype == "string" for f in ds["train"].features.values())
    train, test = ds["train"].to_list(), ds["test"].to_list()
    assert {r["prompt"] for r in train}.isdisjoint(r["prompt"] for r in test)
    triple = lambda r: (r["animal"], r["object"], r["scene"].lower())  # noqa: E731
    assert {triple(r) for r in train}.isdisjoint(triple(r) for r in test)
    for row in train + test:
        prompt = parse_prompt(row["prompt"])
        assert row["prompt_id"] == prompt.stable_id() and row["prompt"] == prompt.render()
        assert (row["dsr_type"], row["dsr_letter"]) == (
            prompt.dsr_type.code,
            prompt.dsr_type.letter,
        )
        assert row["source"] == "template"


def test_card_and_build_record(tmp_path):
    out = tmp_path / tmp_path.name
    build_prompts(
        PromptBuildConfig(out=out, n_train=6, n_test=6, command="dsr build-prompts --out ds")
    )
    card = (out / "README.md").read_text()
    assert "config_name: prompts" in card and "dsr build-prompts --out ds" in card
    assert all(f"`{c}`" in card for c in PROMPT_COLUMNS)
    assert "| left→right (`LR`) | D | 1 | 1 |" in card and 'load_dataset("' in card
    record = json.loads((out / "dsr_build.json").read_text())
    assert (record["format_version"], record["dsr_version"]) == (3, dsr.__version__)
    assert record["configs"]["prompts"]["settings"]["seed"] == 0


def test_same_seed_same_rows_and_other_configs_untouched(tmp_path):
    import datasets

    out = tmp_path / tmp_path.name
    DatasetFolder(out).write_config(
        "other", {"train": datasets.Dataset.from_dict({"x": ["1"]})}, _record()
    )
    first = build_prompts(PromptBuildConfig(out=out, n_train=12, n_test=6, seed=5))
    rows = load(out)["train"].to_list()
    build_prompts(PromptBuildConfig(out=out, n_train=12, n_test=6, seed=5))
    assert load(out)["train"].to_list() == rows and first.total == 18
    assert DatasetFolder(out).config_names() == ["other", "prompts"]
    assert datasets.load_dataset(str(out), "other", download_mode="force_redownload")["train"][
        "x"
    ] == ["1"]


def _record():
    from dsr.builders.folder import ConfigRecord

    return ConfigRecord(description="another config", columns={"x": "a column"})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"backend": "gpt"}, "backend"),
        ({"n_train": -1}, "n_train"),
        ({"n_train": 0, "n_test": 0}, "both 0"),
        ({"disjoint": "scene"}, "disjoint"),
        ({"backend": "file"}, "--input"),
        ({"backend": "openai", "backend_options": {"concurrency": 0}}, "concurrency"),
        ({"backend": "openai", "backend_options": {"timeout": -1}}, "timeout=-1"),
        ({"backend": "openai", "backend_options": {"max_retries": -2}}, "max_retries=-2"),
        ({"backend": "gpt"}, "unknown prompt backend 'gpt': choose one of file, openai, template"),
        (
            {"backend": "openai", "backend_options": {"modle": "gpt-4o"}},
            "unknown prompt backend option modle for 'openai': it takes model, base_url",
        ),
        ({"backend": "template", "backend_options": {"model": "x"}}, "it takes oversample"),
    ],
)
def test_config_validation(tmp_path, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        PromptBuildConfig(out=tmp_path, **kwargs)


def test_openai_build_rerun_makes_zero_requests_and_writes_no_secret(
    tmp_path, openai_server, monkeypatch, caplog
):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    openai_server.reset(default=prompt_responder)
    out = tmp_path / tmp_path.name
    options = {"base_url": openai_server.base_url, "per_request": 3, "backoff": 0.01}
    config = PromptBuildConfig(
        out=out,
        backend="openai",
        n_train=12,
        n_test=6,
        backend_options=options,
        command=f"dsr build-prompts --backend openai --api-key={OPENAI_KEY}",
    )
    with caplog.at_level(logging.DEBUG):
        first = build_prompts(config)
    assert first.counts["train"] == {t.code: 2 for t in DSRType} and openai_server.requests > 0
    made = openai_server.requests
    second = build_prompts(config)
    assert openai_server.requests == made and second.counts == first.counts
    assert load(out)["test"][0]["source"] == "openai:gpt-4o"
    for path in out.rglob("*"):
        if path.is_file():
            assert OPENAI_KEY.encode() not in path.read_bytes(), path
    assert OPENAI_KEY not in caplog.text


def test_file_build_strict_writes_nothing_and_lenient_keeps_good_rows(tmp_path):
    rows = [
        DSRPrompt("In a barn", "cat", "crate", t.initial, t.final, "jumps").render()
        for t in DSRType
    ]
    path = tmp_path / "paper_test.csv"
    path.write_text(
        "prompt,split\n"
        + "".join(f'"{r}",test\n' for r in rows)
        + '"A cat is on the under of a box, then the cat jumps to the left of the box.",test\n'
    )
    out = tmp_path / tmp_path.name
    strict = PromptBuildConfig(
        out=out,
        backend="file",
        n_train=0,
        n_test=6,
        strict=True,
        backend_options={"path": str(path)},
    )
    with pytest.raises(DataError, match=r"paper_test.csv:8.*under"):
        build_prompts(strict)
    assert not (out / "README.md").exists() and not list(out.glob("prompts/*"))
    lenient = PromptBuildConfig(
        out=out, backend="file", n_train=0, n_test=6, backend_options={"path": str(path)}
    )
    result = build_prompts(lenient)
    assert result.counts == {
        "train": {t.code: 0 for t in DSRType},
        "test": {t.code: 1 for t in DSRType},
    }
    assert result.rejects == {"parse_error": 1}
    reject = json.loads(result.rejects_file.read_text().splitlines()[0])
    assert reject["origin"] == "paper_test.csv:8"
    assert list(load(out)) == ["test"]


def test_file_rows_left_out_by_the_quotas_are_reported(tmp_path, caplog):
    rows = [
        DSRPrompt(f"In barn {i}", "cat", "crate", t.initial, t.final, "jumps").render()
        for t in DSRType
        for i in range(2)
    ]
    path = tmp_path / "twelve.txt"
    path.write_text("\n".join(rows) + "\n")
    with caplog.at_level(logging.WARNING):
        build_prompts(
            PromptBuildConfig(
                out=tmp_path / tmp_path.name,
                backend="file",
                n_train=0,
                n_test=6,
                backend_options={"path": str(path)},
            )
        )
    assert "6 valid prompts of file:twelve.txt were not used" in caplog.text


def test_file_shortfall_is_reported_not_raised(tmp_path):
    path = tmp_path / "few.txt"
    path.write_text(DSRPrompt("", "cat", "box", "left", "right", "jumps").render() + "\n")
    result = build_prompts(
        PromptBuildConfig(
            out=tmp_path / tmp_path.name,
            backend="file",
            n_train=6,
            n_test=0,
            backend_options={"path": str(path)},
        )
    )
    assert result.shortfall == {t.code: 1 for t in DSRType if t != DSRType.LR}


def test_cli_records_sanitized_command(tmp_path, monkeypatch):
    from dsr.cli import main

    out = tmp_path / tmp_path.name
    argv = ["build-prompts", "--out", str(out), "--n-train", "6", "--n-test", "6", "--seed", "2"]
    monkeypatch.setattr("sys.argv", ["dsr", *argv])
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    assert "train: 6 prompts" in result.output
    record = json.loads((out / "dsr_build.json").read_text())
    assert record["configs"]["prompts"]["command"].startswith("dsr build-prompts --out")
    bad = CliRunner().invoke(main, ["build-prompts", "--out", str(out), "--version", "v1.0.0"])
    assert bad.exit_code == 1 and "--push" in bad.output


def test_no_accepted_prompt_is_an_error_and_keeps_the_folder_loadable(tmp_path):
    out = tmp_path / tmp_path.name
    build_prompts(PromptBuildConfig(out=out, n_train=6, n_test=6))
    path = tmp_path / "junk.txt"
    path.write_text("a\tb\nA cat sits near a bench.\n")
    with pytest.raises(
        DataError, match=r"no prompt from file:junk.txt was accepted.*parse_error=2.*junk.txt:1"
    ):
        build_prompts(
            PromptBuildConfig(
                out=out, backend="file", n_train=6, n_test=6, backend_options={"path": str(path)}
            )
        )
    assert load(out)["test"].num_rows == 6  # the earlier build is untouched


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--push", "me/ds", "--version", "latest"], "vMAJOR.MINOR.PATCH"),
        (
            ["--push", "me/ds", "--version", "v1.0.0"],
            "HF_TOKEN",
        ),  # no token in the test environment
        (["--push", "not a repo", "--version", "v1.0.0"], "namespace/name"),
    ],
)
def test_cli_push_options_fail_before_building(tmp_path, monkeypatch, args, match):
    from dsr.cli import main

    monkeypatch.delenv("HF_TOKEN", raising=False)
    out = tmp_path / tmp_path.name
    result = CliRunner().invoke(
        main, ["build-prompts", "--out", str(out), "--n-train", "6", "--n-test", "6", *args]
    )
    assert result.exit_code == 1 and match in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and not out.exists()


def test_openai_short_and_repeated_answers_are_asked_again_within_max_rounds(
    tmp_path, openai_server, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    options = {"base_url": openai_server.base_url, "per_request": 3, "backoff": 0.01}

    def short(body):  # one record where three were asked for
        return Reply.json({"prompts": json.loads(prompt_responder(body).content)["prompts"][:1]})

    openai_server.reset(default=short)
    config = PromptBuildConfig(
        out=tmp_path / "a", backend="openai", n_train=12, n_test=6, backend_options=options
    )
    result = build_prompts(config)
    assert result.rounds > 1 and not result.shortfall and result.total == 18

    def same(body):  # always the same record: duplicates after the first
        return Reply.json(
            {"prompts": json.loads(prompt_responder({**body, "seed": 0}).content)["prompts"][:1]}
        )

    openai_server.reset(default=same)
    config = PromptBuildConfig(
        out=tmp_path / "b",
        backend="openai",
        n_train=12,
        n_test=6,
        max_rounds=3,
        backend_options=options,
    )
    result = build_prompts(config)
    assert result.rounds == 3 and result.shortfall and result.rejects["duplicate"] > 0
    assert openai_server.requests <= 3 * 6 * 2  # bounded: rounds × types × batches of round 0


def test_openai_stops_asking_when_a_whole_round_failed(tmp_path, openai_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    openai_server.reset(default=lambda body: Reply.error(503))
    options = {
        "base_url": openai_server.base_url,
        "per_request": 6,
        "max_retries": 1,
        "backoff": 0.01,
    }
    config = PromptBuildConfig(
        out=tmp_path / "a", backend="openai", n_train=6, n_test=6, backend_options=options
    )
    with pytest.raises(DataError, match=r"request_failed=6.*endpoint"):
        build_prompts(config)
    assert (
        openai_server.requests == 6 * 2
    )  # one round of 6 requests, each tried twice; not 5 rounds
