"""``dsr judge`` end to end against the loopback OpenAI server, driven by the real openai client,
with a model that answers from the synthetic world's ground truth and a scripted error rate
(tests/judge/_oracle.py): what is sent, what the analysis recovers, what is written, and the
``pairs-vlm`` config that training reads."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from _oracle import GroundTruthVLM
from servers.openai import OpenAIServer

from dsr.builders.folder import DatasetFolder
from dsr.judge.config import JudgeConfig, JudgeOptions
from dsr.judge.run import JudgeResult, judge

#: The scripted share of wrong answers.
ERROR_RATE = 0.25


def samples_of(folder: Path) -> pl.DataFrame:
    files = DatasetFolder(folder).data_files("samples", "train")
    return pl.concat([pl.read_parquet(f).drop("video") for f in files])


@pytest.fixture(scope="module")
def judged(
    judge_dataset: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, ...]]:
    folder = Path(
        shutil.copytree(
            judge_dataset,
            tmp_path_factory.mktemp("judged") / "ds",
            ignore=shutil.ignore_patterns(".dsr"),
        )
    )
    oracle = GroundTruthVLM(folder, error_rate=ERROR_RATE, salt="module")
    server = OpenAIServer(default=oracle).start()
    options = JudgeOptions(model="gpt-4o", base_url=server.base_url, pairs=True, concurrency=3)
    try:
        yield folder, oracle, server, judge(JudgeConfig(str(folder), options))
    finally:
        server.stop()


def _answers(oracle: GroundTruthVLM) -> dict[tuple[str, str], bool]:
    return {(e["sample_id"], e["kind"]): e["answer"] for e in oracle.log}


def test_each_video_is_asked_both_questions_over_frames_from_first_to_last(judged) -> None:  # type: ignore[no-untyped-def]
    folder, oracle, server, result = judged
    samples = samples_of(folder)
    assert (
        server.requests == 2 * samples.height == len(oracle.log) and result.sent == server.requests
    )
    assert {(e["sample_id"], e["kind"]) for e in oracle.log} == {
        (s, k) for s in samples["sample_id"] for k in ("initial", "final")
    }
    assert all(e["images"] == 8 and e["last_frame_matches"] for e in oracle.log)
    content = server.bodies[0]["messages"][0]["content"]
    assert [p["type"] for p in content] == ["text"] + ["image_url"] * 8 + ["text"]
    assert content[-1]["text"].endswith("? Answer yes or no.") and content[0]["text"].startswith(
        "The following 8 images"
    )
    assert server.bodies[0]["model"] == "gpt-4o" and server.bodies[0]["temperature"] == 0.0


def test_figure4_shares_recover_the_scripted_error_rate(judged) -> None:  # type: ignore[no-untyped-def]
    folder, oracle, _server, result = judged
    samples = samples_of(folder)
    truths = {(e["sample_id"], e["kind"]): e["truth"] for e in oracle.log}
    wrong = total = 0
    for kind, column in (("initial", "r_init"), ("final", "r_final")):
        bins = result.analysis.bins[kind]
        for edge, share, truth in ((bins[-1], "no", True), (bins[0], "yes", False)):
            ids = samples.filter(pl.col(column).is_between(edge.lo, edge.hi, closed="both"))[
                "sample_id"
            ].to_list()
            assert ids and all(
                truths[(s, kind)] is truth for s in ids
            )  # extreme bins: the truth is clear
            flipped = sum(oracle.flipped(s, kind) for s in ids)
            assert edge.n == len(ids) and getattr(edge, share) == pytest.approx(flipped / len(ids))
            wrong, total = wrong + flipped, total + len(ids)
    assert (
        abs(wrong / total - ERROR_RATE) < 0.12
    )  # the recovered rate is the scripted one, up to sampling


def test_reliability_agrees_with_an_independent_count(judged) -> None:  # type: ignore[no-untyped-def]
    folder, oracle, _server, result = judged
    answers = _answers(oracle)
    table = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for row in samples_of(folder).iter_rows(named=True):
        vlm = answers[(row["sample_id"], "initial")] and answers[(row["sample_id"], "final")]
        geometry = bool(row["valid"]) and row["dsr_score"] >= 0.7
        table[
            {(True, True): "tp", (True, False): "fp", (False, True): "fn", (False, False): "tn"}[
                (vlm, geometry)
            ]
        ] += 1
    at = result.analysis.at(0.7)
    assert (at.tp, at.fp, at.fn, at.tn) == (table["tp"], table["fp"], table["fn"], table["tn"])
    assert at.accuracy == pytest.approx((table["tp"] + table["tn"]) / sum(table.values()))
    assert [a.tau for a in result.analysis.reliability] == pytest.approx(
        [0.1 * i for i in range(10)]
    )


def test_judgments_config_loads_and_a_rerun_sends_nothing(judged) -> None:  # type: ignore[no-untyped-def]
    from datasets import load_dataset

    folder, oracle, server, result = judged
    rows = load_dataset(str(folder), "judgments", split="train")
    answers = _answers(oracle)
    assert len(rows) == len(answers)
    for row in rows:
        assert row["answer"] == (
            "yes" if answers[(row["sample_id"], row["question_kind"])] else "no"
        )
        assert (
            row["raw_text"] in ("Yes.", "No.") and not row["refused"] and row["model"] == "gpt-4o"
        )
        assert row["frames"] == [0, 3, 7, 10, 13, 16, 20, 23] and row["frame_mode"] == "frames"
    assert {p.name for p in result.assets} == {"judge-gpt-4o.png", "judge-gpt-4o.json"}
    assert all((folder / "assets" / p.name).stat().st_size > 0 for p in result.assets)
    before = server.requests
    again: JudgeResult = judge(result.plan.config)
    assert server.requests == before and again.sent == 0 and again.plan.cached == len(answers)
    assert again.analysis == result.analysis


def test_pairs_vlm_has_the_shape_of_pairs_and_the_vlm_winners(judged) -> None:  # type: ignore[no-untyped-def]
    from datasets import load_dataset

    from dsr.training.data import load_pair_set, resolve_dataset

    folder, oracle, _server, _result = judged
    answers = _answers(oracle)
    vlm = load_dataset(str(folder), "pairs-vlm", split="train")
    assert vlm.features == load_dataset(str(folder), "pairs", split="train").features
    by_prompt: dict[str, tuple[set[str], set[str]]] = {}
    for row in samples_of(folder).filter(pl.col("valid")).iter_rows(named=True):
        side = (
            0
            if answers[(row["sample_id"], "initial")] and answers[(row["sample_id"], "final")]
            else 1
        )
        by_prompt.setdefault(row["prompt_id"], (set(), set()))[side].add(row["sample_id"])
    expected = {p: sides for p, sides in by_prompt.items() if all(sides)}
    assert (
        expected
        and {r["prompt_id"]: (set(r["chosen_ids"]), set(r["rejected_ids"])) for r in vlm}
        == expected
    )
    assert all(r["tau"] == 1.0 and set(r["chosen_scores"]) == {1.0} for r in vlm)
    pair_set = load_pair_set(resolve_dataset(str(folder)), pairs_config="pairs-vlm")
    assert {p.prompt_id: (set(p.chosen), set(p.rejected)) for p in pair_set.prompts} == expected
