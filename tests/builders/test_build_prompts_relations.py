"""build-prompts beyond the paper's relations: ``--relations`` balances every ordered pair of the
chosen relations as the six are balanced, ``--three-stage`` every triple, and the default stays the
paper's (docs/method.md §8)."""

from __future__ import annotations

from collections import Counter
from itertools import permutations

import polars as pl
import pytest
from click.testing import CliRunner

from dsr.builders.prompts import PromptBuildConfig, build_prompts
from dsr.errors import ConfigError
from dsr.prompts import parse_prompt

ALL = "left,right,top,under,front,behind"


def _rows(out, split: str) -> list[dict]:
    (path,) = (out / "prompts").glob(f"{split}-*.parquet")
    return pl.read_parquet(path).to_dicts()


def test_all_six_relations_balance_their_thirty_types(tmp_path) -> None:
    out = tmp_path / "six"
    result = build_prompts(PromptBuildConfig(out=out, relations=ALL, n_train=31, n_test=30))
    letters = dict(zip(ALL.split(","), "LRTUFB", strict=True))
    codes = [letters[a] + letters[b] for a, b in permutations(ALL.split(","), 2)]
    assert set(result.counts["test"]) == set(codes) and len(codes) == 30
    assert set(result.counts["test"].values()) == {1}
    assert sorted(result.counts["train"].values()) == [1] * 29 + [2]
    assert result.counts["train"]["LT"] == 2  # the remainder goes to the paper's type A first
    for row in _rows(out, "test"):
        prompt = parse_prompt(row["prompt"])
        assert prompt.dsr_type.code == row["dsr_type"]
        assert row["dsr_letter"] == (prompt.dsr_type.letter or None)  # A–F, else null
    assert result.total == 61


def test_three_stage_types_balance_every_triple(tmp_path) -> None:
    out = tmp_path / "three"
    result = build_prompts(
        PromptBuildConfig(
            out=out, relations="left,top,under", three_stage=True, n_train=12, n_test=12
        )
    )
    assert result.counts["test"] == dict.fromkeys(result.counts["test"], 1)
    assert len(result.counts["test"]) == 12  # 3 first × 2 middle × 2 last relations
    stages = Counter(len(parse_prompt(r["prompt"]).relations) for r in _rows(out, "test"))
    assert stages == {3: 12}


def test_default_records_no_new_setting_and_bad_relations_are_refused(tmp_path) -> None:
    assert "relations" not in PromptBuildConfig(out=tmp_path).settings()
    assert PromptBuildConfig(out=tmp_path, relations="Under, front").relations == "under,front"
    with pytest.raises(ConfigError, match="'inside'"):
        PromptBuildConfig(out=tmp_path, relations="left,inside")
    with pytest.raises(ConfigError, match="at least two"):
        PromptBuildConfig(out=tmp_path, relations="left,left")


def test_cli_takes_relations(tmp_path) -> None:
    from dsr.cli import main

    out = tmp_path / "cli"
    args = ["build-prompts", "--out", str(out), "--relations", "left,under", "--n-train", "2"]
    result = CliRunner().invoke(main, [*args, "--n-test", "2"])
    assert result.exit_code == 0, result.output
    assert sorted(r["dsr_type"] for r in _rows(out, "test")) == ["LU", "UL"]


def test_a_list_with_types_outside_relations_says_which(tmp_path, caplog) -> None:
    rows = [
        "prompt,split",
        '"A cat is under a table, then the cat crawls to the left of the table.",test',
        '"A cat is on the left of a box, then the cat jumps to the top of the box.",test',
    ]
    path = tmp_path / "mine.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = PromptBuildConfig(
        out=tmp_path / "file-out",
        backend="file",
        n_train=0,
        n_test=6,
        backend_options={"path": str(path)},
    )
    with caplog.at_level("WARNING"):
        result = build_prompts(config)
    assert result.counts["test"]["LT"] == 1 and "UL" not in result.counts["test"]
    assert "DSR types this build does not balance (UL)" in caplog.text
