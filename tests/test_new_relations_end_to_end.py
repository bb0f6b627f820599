"""A dataset with the relations beyond the paper's builds, scores, pairs, trains and evaluates end
to end through the CLI: ``build-prompts --relations left,right,top,under,front,behind`` →
``build-videos`` (synthetic world, ``annotations`` tracker: the true boxes and the true depth) →
samples with depth columns exactly for the prompts placed in depth → pairs → ``dsr train --tiny``
→ ``dsr eval`` per type."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from dsr.cli import main
from dsr.generation.synthetic import SyntheticConfig, SyntheticGenerator
from dsr.prompts import parse_prompt
from dsr.scoring import dsr_score
from dsr.tracking.annotations import AnnotationTracker

ALL = "left,right,top,under,front,behind"
LETTERS = dict(zip(ALL.split(","), "LRTUFB", strict=True))
VIDEO = ("num_frames=24", "height=48", "width=64")
DEPTH_COLUMNS = ("animal_depth", "object_depth", "occlusion")


def _dsr(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (args, result.output)
    return result.output


def _build_videos(out: Path, split: str, seeds: int) -> None:
    options = [x for opt in VIDEO for x in ("--generator-opt", opt)]
    _dsr(
        "build-videos",
        *("--prompts", str(out), "--out", str(out), "--split", split),
        *("--generator", "synthetic", *options, "--tracker", "annotations"),
        *("--samples-per-prompt", str(seeds)),
    )


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("new-relations") / "dataset"
    _dsr(
        "build-prompts",
        *("--out", str(out), "--backend", "template", "--relations", ALL),
        *("--n-train", "30", "--n-test", "30", "--seed", "0"),
    )
    _build_videos(out, "train", 2)
    _build_videos(out, "test", 1)
    return out


def _samples(out: Path) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(p) for p in sorted((out / "samples").glob("*.parquet"))])


def test_samples_carry_depth_exactly_for_depth_types(dataset: Path) -> None:
    df = _samples(dataset)
    assert df.height == 30 * 2 + 30 and set(df["dsr_type"]) == {
        LETTERS[a] + LETTERS[b] for a in LETTERS for b in LETTERS if a != b
    }
    for row in df.iter_rows(named=True):
        in_depth = bool({row["initial"], row["final"]} & {"front", "behind"})
        assert all((row[c] is not None) == in_depth for c in DEPTH_COLUMNS), row["sample_id"]
        if in_depth and row["num_frames"]:
            assert len(row["animal_depth"]) == row["num_frames"]
            assert set(row["occlusion"]) <= {-1.0, 0.0, 1.0}


def test_videos_that_follow_a_depth_prompt_score_high_and_reversed_ones_low(
    dataset: Path,
) -> None:
    """The synthetic truth of front/behind (depth, occlusion) scored as a dataset sample is:
    following the prompt scores > 0.7, the reverse motion below 0.5 (0 for front ↔ behind, where
    both ends are placed in depth; a side relation scores 0 in depth, hence up to ~0.4 for a
    reversed front → left)."""
    df = _samples(dataset).filter(pl.col("initial").is_in(["front", "behind"]))
    follow = df.filter(pl.col("generator_settings").str.contains('"scenario": "follow"'))
    reverse = df.filter(pl.col("generator_settings").str.contains('"scenario": "reverse"'))
    assert follow.height >= 3 and reverse.height >= 1
    assert follow["valid"].all() and (follow["dsr_score"] > 0.7).all()
    assert (reverse.filter(pl.col("valid"))["dsr_score"] < 0.5).all()


def test_pairs_train_and_eval_per_new_type(dataset: Path, tmp_path: Path) -> None:
    pairs = pl.concat([pl.read_parquet(p) for p in (dataset / "pairs").glob("*.parquet")])
    assert pairs.height >= 3
    assert set(pairs["dsr_type"]) - {"LT", "TL", "RT", "LR", "TR", "RL"}  # new types pair too
    for row in pairs.iter_rows(named=True):
        assert min(row["chosen_scores"]) >= row["tau"] > max(row["rejected_scores"])
    adapter = tmp_path / "adapter"
    _dsr(
        "train",
        "--tiny",
        *("--dataset", str(dataset), "--output-dir", str(adapter), "--max-steps", "2"),
        *("--cache-dir", str(tmp_path / "cache")),
    )
    assert (adapter / "pytorch_lora_weights.safetensors").is_file()
    _dsr("eval", str(dataset), "--metrics", "dsr", "--out", str(tmp_path / "eval"))
    results = json.loads((tmp_path / "eval" / "eval_results.json").read_text())
    text = json.dumps(results)
    for code in ("UF", "FB", "BF", "LU"):
        assert f'"{code}"' in text


def test_a_three_stage_prompt_renders_its_middle_stage() -> None:
    """left → top → right in the synthetic world: the animal passes over the object, in that
    order, and the three-stage DSR-Score passes it (> 0.7) and fails its reverse (< 0.5)."""
    prompt = parse_prompt(
        "A cat is on the left of a crate, then the cat walks to the top of the crate, then to "
        "the right of the crate."
    )
    assert prompt.middle is not None and prompt.middle.value == "top"
    scores = {}
    for scenario in ("follow", "reverse"):
        cfg = SyntheticConfig(num_frames=33, height=64, width=96, scenario=scenario)
        video = SyntheticGenerator(cfg).generate_one(prompt, 0)
        result = AnnotationTracker().track(video.frames, prompt, video.annotations)
        a, o = result.animal_boxes, result.object_boxes
        scores[scenario] = dsr_score(a, o, "left", "right", middle="top").score
        if scenario == "follow":
            cx = (a[:, 0] + a[:, 2]) / 2 - (o[:, 0] + o[:, 2]) / 2
            on_top = (a[:, 3] <= o[:, 1] + 1) & (abs(cx) < (o[:, 2] - o[:, 0]) / 2)
            frames = np.flatnonzero(on_top)  # the bottom above the top, centred over it
            assert len(frames) >= 3
            assert (cx[: frames[0]] < 0).any() and (cx[frames[-1] + 1 :] > 0).any()
    assert scores["follow"] > 0.7 > 0.5 > scores["reverse"]
