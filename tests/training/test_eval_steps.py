"""``dsr train --eval-steps``: the DSR metrics of the adapter being trained, logged every N steps
(tiny Wan, scripted tiny Grounding DINO + tiny SAM2 loaded through ``from_pretrained``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _training_helpers import FAST, run_two_ranks
from _videos_helpers import prompt_records, write_prompts

from dsr.errors import ConfigError, DsrError
from dsr.training.run import train


@pytest.fixture(scope="module")
def eval_setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from dsr.tracking.tiny import save_tiny_grounding_dino, save_tiny_sam2_video

    root = tmp_path_factory.mktemp("eval-steps")
    prompts = write_prompts(
        root / "prompts", prompt_records(1, split="test"), split="test"
    )  # a fox and a stump
    boxes = {"fox": (0.1, 0.2, 0.4, 0.6), "stump": (0.55, 0.5, 0.9, 0.85)}
    detector = save_tiny_grounding_dino(root / "gdino", script=("fox. stump.", boxes))
    return {
        "prompts": str(prompts),
        "detector": str(detector),
        "sam2": str(save_tiny_sam2_video(root / "sam2")),
    }


def _eval_options(setup: dict[str, str], every: int = 2, seeds: int = 1) -> dict[str, object]:
    """Small evaluation videos (21 frames of 32×32: enough valid frames for a score) for speed."""
    return {
        "eval_steps": every,
        "eval_prompts": 1,
        "eval_seeds": seeds,
        "eval_dataset": setup["prompts"],
        "eval_tracker_options": [f"detector={setup['detector']}", f"sam2={setup['sam2']}"],
        "eval_generator_options": [
            "num_inference_steps=2",
            "num_frames=21",
            "height=32",
            "width=32",
        ],
    }


def _logged(out: Path) -> list[dict]:  # type: ignore[type-arg]
    entries = [json.loads(line) for line in (out / "training_log.jsonl").read_text().splitlines()]
    return [e for e in entries if "eval/correct@0.7" in e]


def _check_against_rows(out: Path, entry: dict, expected: list[tuple[str, int]]) -> None:  # type: ignore[type-arg]
    rows = [
        json.loads(line) for line in (out / "eval_steps" / f"step-{entry['step']:06d}.jsonl").open()
    ]
    assert sorted((r["prompt_id"], r["seed"]) for r in rows) == expected
    valid = [r["dsr_score"] for r in rows if r["valid"]]
    assert valid, rows  # the scripted detector finds the fox and the stump on every frame
    assert entry["eval/correct@0.7"] == pytest.approx(sum(s >= 0.7 for s in valid) / len(rows))
    assert entry["eval/dsr_score"] == pytest.approx(sum(valid) / len(valid))
    assert entry["eval/valid"] == pytest.approx(len(valid) / len(rows))


def test_eval_metrics_are_logged_every_n_steps(make_config, eval_setup, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run = train(
        make_config(
            output_dir=str(tmp_path / "run"), max_steps=2, **_eval_options(eval_setup, every=2)
        )
    )
    logged = _logged(run.output_dir)
    assert [e["step"] for e in logged] == [2]
    _check_against_rows(run.output_dir, logged[0], [("test-000", 0)])


@pytest.mark.slow
def test_evaluations_change_nothing_in_the_trained_adapter(
    make_config, eval_setup, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    run = train(
        make_config(
            output_dir=str(tmp_path / "with"), max_steps=2, **_eval_options(eval_setup, 1, 2)
        )
    )
    logged = _logged(run.output_dir)
    assert [e["step"] for e in logged] == [1, 2]
    for entry in logged:
        _check_against_rows(run.output_dir, entry, [("test-000", 0), ("test-000", 1)])
    # the evaluation restores the RNG and the train mode: the adapter is the one a run
    # without it trains
    plain = train(make_config(output_dir=str(tmp_path / "without"), max_steps=2))
    name = "pytorch_lora_weights.safetensors"
    assert (run.output_dir / name).read_bytes() == (plain.output_dir / name).read_bytes()


def test_eval_options_are_checked_before_training(make_config, eval_setup, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "never"
    with pytest.raises(DsrError, match="no prompts/test"):
        train(
            make_config(output_dir=str(out), **{**_eval_options(eval_setup), "eval_dataset": None})
        )
    with pytest.raises(ConfigError, match="unknown tracker option"):
        train(
            make_config(
                output_dir=str(out),
                **{**_eval_options(eval_setup), "eval_tracker_options": ["boxes=1"]},
            )
        )
    with pytest.raises(ConfigError, match="eval_steps=0"):
        make_config(output_dir=str(out), eval_steps=0)
    assert not (out / "pytorch_lora_weights.safetensors").exists()


@pytest.mark.slow  # two torchrun processes that each train, sample, track and score
def test_two_ranks_split_the_evaluation_and_log_the_gathered_rows(
    tiny_wan, pairs_dataset, eval_setup, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "ddp-eval"
    settings = {
        **FAST,
        "output_dir": str(out),
        "dataset": str(pairs_dataset),
        "base_model": str(tiny_wan),
        "cache_dir": str(tmp_path / "cache"),
        "max_steps": 2,
        **_eval_options(eval_setup, every=2, seeds=2),
    }
    proc = run_two_ranks(settings, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]

    logged = _logged(out)
    assert [e["step"] for e in logged] == [2]  # logged once, by the main process
    # one (prompt, seed) per rank, gathered: both present, none twice
    _check_against_rows(out, logged[0], [("test-000", 0), ("test-000", 1)])
