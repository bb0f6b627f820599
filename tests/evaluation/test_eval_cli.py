"""``dsr eval`` end to end on small synthetic datasets with tiny random DINOv2 and CLIP; resuming,
refusals, ``dsr eval compare`` and ``--model-card`` (local folder and the loopback Hub)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from dsr.cli import main
from dsr.errors import ConfigError, VariantMismatchError

VIDEO = {"num_frames": 32, "height": 64, "width": 96, "fps": 8}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 template test prompts × seeds 0, 1 and 6 (follow, reverse, a second animal: invalid),
    synthetic videos with ground-truth boxes."""
    from dsr.builders.prompts import PromptBuildConfig, build_prompts
    from dsr.builders.videos import VideoBuildConfig, build_videos

    root = tmp_path_factory.mktemp("eval-data") / "ds"
    build_prompts(PromptBuildConfig(out=root, backend="template", n_train=6, n_test=6, seed=0))
    build_videos(
        VideoBuildConfig(
            prompts=str(root),
            out=str(root),
            split="test",
            generator="synthetic",
            generator_options={**VIDEO, "scenario": "cycle"},
            tracker="annotations",
            seeds=(0, 1, 6),
        )
    )
    return root


def _args(dataset: Path, out: Path, models: dict[str, Path], *extra: str) -> list[str]:
    return [
        "eval",
        str(dataset),
        "--out",
        str(out),
        "--dino",
        str(models["dino"]),
        "--clip",
        str(models["clip"]),
        "--clip-iqa-weights",
        str(models["piq_clip"]),
        "--id-crop-size",
        "28",
        "--n-resamples",
        "300",
        "--batch-size",
        "16",
        *extra,
    ]


def _samples(
    dataset: Path, columns: tuple[str, ...] = ("sample_id", "valid", "dsr_score", "dsr_type")
) -> list[dict]:  # type: ignore[type-arg]
    from dsr.builders.folder import DatasetFolder

    files = DatasetFolder(dataset).data_files("samples", "test")
    return [r for f in files for r in pq.read_table(f, columns=list(columns)).to_pylist()]


_TRACK_COLUMNS = ("sample_id", "key_frame", "animal_boxes", "object_boxes")


def _authors_crop_count(row: dict) -> int:  # type: ignore[type-arg]
    """How many crops calc_metric.py's loop takes: from the key frame forward, then backward,
    until a box has no width (an absent box is their [0, 0, 0, 0]) or the animal no height."""
    key = row["key_frame"]
    if key is None:
        return 0
    boxes = np.nan_to_num(np.array([row["animal_boxes"], row["object_boxes"]], dtype=float))
    count = 0
    for t in [*range(key, boxes.shape[1]), *range(key - 1, -1, -1)]:
        a, o = boxes[0, t], boxes[1, t]
        if a[2] - a[0] <= 0 or o[2] - o[0] <= 0 or a[3] - a[1] <= 0:
            break
        count += 1
    return count


@pytest.fixture(scope="module")
def evaluated(
    dataset: Path, tiny_eval_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("eval-out") / "base"
    result = CliRunner().invoke(main, _args(dataset, out, tiny_eval_models, "--name", "base"))
    assert result.exit_code == 0, result.output
    assert (
        "| Model | Correct@0.7 [exact] | ID consistency [authors] | CLIP-IQA (natural) [authors]"
        in result.output
    )
    return out


def test_eval_end_to_end_numbers_match_the_stored_rows(dataset: Path, evaluated: Path) -> None:
    rows = _samples(dataset)
    results = json.loads((evaluated / "eval_results.json").read_text())
    correct = sum(r["valid"] and r["dsr_score"] >= 0.7 for r in rows) / len(rows)
    valid = [r["dsr_score"] for r in rows if r["valid"]]
    assert (
        0 < len(valid) < len(rows)
    )  # the cycle of scenarios holds invalid samples: they must count
    assert results["metrics"]["correct@0.7"]["estimate"] == pytest.approx(correct)
    assert results["metrics"]["mean_dsr_score"]["estimate"] == pytest.approx(np.mean(valid))
    assert results["summary"]["validity_rate"] == pytest.approx(len(valid) / len(rows))
    for key in (
        "correct@0.7",
        "mean_dsr_score",
        "id_consistency",
        "clip_iqa_natural",
        "clip_iqa_quality",
    ):
        block = results["metrics"][key]
        assert block["low"] <= block["estimate"] <= block["high"], key
    per_sample = {
        r["sample_id"]: r for r in pq.read_table(evaluated / "per_sample.parquet").to_pylist()
    }
    assert set(per_sample) == {r["sample_id"] for r in rows}
    tracks = {r["sample_id"]: r for r in _samples(dataset, _TRACK_COLUMNS)}
    for r in rows:  # ID consistency where the authors' loop keeps 20 crops, CLIP-IQA everywhere
        assert (per_sample[r["sample_id"]]["id_consistency"] is not None) == (
            _authors_crop_count(tracks[r["sample_id"]]) >= 20
        )
        assert 0 < per_sample[r["sample_id"]]["clip_iqa_natural"] < 1
    ids = [v["id_consistency"] for v in per_sample.values() if v["id_consistency"] is not None]
    assert results["metrics"]["id_consistency"]["estimate"] == pytest.approx(np.mean(ids))
    assert set(results["per_type"]) == {"LT", "TL", "RT", "LR", "TR", "RL"}
    assert results["weights"]["id"]["crop_size"] == 28 and results["weights"]["clip_iqa"][
        "anchors"
    ] == ["natural", "quality"]
    text = (evaluated / "eval_results.json").read_text()
    assert (
        "/tmp/" not in text and str(dataset) not in text
    )  # local folders are named, never their paths
    for name in ("correctness.png", "per_type.png", "table.md"):
        assert (evaluated / name).stat().st_size > 0


def test_rerun_computes_only_what_is_missing_and_refuses_other_weights(
    dataset: Path, evaluated: Path, tiny_eval_models: dict[str, Path]
) -> None:
    from dsr.evaluation.config import EvalConfig
    from dsr.evaluation.runner import evaluate

    config = {
        "dataset": str(dataset),
        "out": str(evaluated),
        "dino": str(tiny_eval_models["dino"]),
        "clip": str(tiny_eval_models["clip"]),
        "clip_iqa_weights": str(tiny_eval_models["piq_clip"]),
        "id_crop_size": 28,
        "n_resamples": 300,
        "name": "base",
    }
    before = json.loads((evaluated / "eval_results.json").read_text())
    victim = sorted((evaluated / ".dsr" / "eval" / "id").glob("*__seed*.json"))[0]
    victim.unlink()  # as if killed before this video's value was committed
    run = evaluate(EvalConfig(**config))
    assert run.computed == {"id": 1, "clip_iqa": 0}
    assert json.loads((evaluated / "eval_results.json").read_text())["metrics"] == before["metrics"]
    with pytest.raises(ConfigError, match="other settings.*crop_size"):
        evaluate(EvalConfig(**{**config, "id_crop_size": 42}))


def test_two_shards_give_the_single_process_result_and_a_second_run_is_refused(
    dataset: Path, evaluated: Path, tiny_eval_models: dict[str, Path], tmp_path: Path
) -> None:
    from dsr.errors import BusyError
    from dsr.evaluation.config import EvalConfig
    from dsr.evaluation.runner import evaluate
    from dsr.locks import exclusive_lock

    config = {
        "dataset": str(dataset),
        "out": str(tmp_path / "sharded"),
        "dino": str(tiny_eval_models["dino"]),
        "metrics": ("dsr", "id"),
        "id_crop_size": 28,
        "n_resamples": 300,
        "name": "base",
        "num_shards": 2,
    }
    first = evaluate(EvalConfig(**config, shard_index=0))
    assert first.results is None and first.computed == {
        "id": 9
    }  # 18 samples: half of them, no results yet
    with (
        exclusive_lock(
            tmp_path / "sharded" / ".dsr" / "eval" / "shard-00001-of-00002.lock", "test"
        ),
        pytest.raises(BusyError, match="in use"),
    ):
        evaluate(EvalConfig(**config, shard_index=1))
    second = evaluate(EvalConfig(**config, shard_index=1))
    single = json.loads((evaluated / "eval_results.json").read_text())["metrics"]
    assert second.results is not None
    assert second.results["metrics"]["id_consistency"] == single["id_consistency"]
    assert second.results["metrics"]["correct@0.7"] == single["correct@0.7"]


@pytest.mark.slow  # the default suite runs `dsr eval --metrics dsr` on the demo in test_demo.py
def test_dsr_only_evaluation_of_the_demo_dataset(tmp_path: Path) -> None:
    from dsr.demo import run_demo

    demo = run_demo(tmp_path / "demo", n_prompts=6, seeds_per_prompt=1, train_steps=0)
    result = CliRunner().invoke(
        main,
        [
            "eval",
            str(demo.dataset),
            "--split",
            "train",
            "--metrics",
            "dsr",
            "--out",
            str(tmp_path / "eval"),
            "--n-resamples",
            "200",
        ],
    )
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "eval" / "eval_results.json").read_text())
    assert results["summary"]["n_samples"] == 6 and "id_consistency" not in results["metrics"]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--metrics", "dsr,fid"], "metrics fid: choose from dsr, id, clip_iqa, iq"),
        (["--metrics", "iq"], "needs --iq-weights"),
        (["--split", "validation"], "has no validation split"),
        (["--config", "pairs-vlm"], "has no `pairs-vlm` config"),
    ],
)
def test_bad_options_are_one_line(
    dataset: Path, tmp_path: Path, extra: list[str], needle: str
) -> None:
    result = CliRunner().invoke(main, ["eval", str(dataset), "--out", str(tmp_path / "o"), *extra])
    assert result.exit_code == 1 and needle in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_compare_two_evaluations(
    dataset: Path, evaluated: Path, tiny_eval_models: dict[str, Path], tmp_path: Path
) -> None:
    import shutil

    other = tmp_path / "other"
    shutil.copytree(
        evaluated, other
    )  # the same samples under another name: a paired test must say p = 1
    results = json.loads((other / "eval_results.json").read_text())
    results["model"]["name"] = "same"
    (other / "eval_results.json").write_text(json.dumps(results))
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        main,
        ["eval", "compare", str(evaluated), str(other), "--out", str(out), "--n-resamples", "300"],
    )
    assert result.exit_code == 0, result.output
    record = json.loads((out / "comparison.json").read_text())
    test = record["paired_tests"][0]["tests"]["correct@0.7"]
    assert test["p_value"] == 1.0 and test["difference"] == 0.0
    assert (out / "correctness_curves.png").stat().st_size > 0
    assert (
        (out / "comparison.csv")
        .read_text()
        .splitlines()[0]
        .startswith("model,correct@0.7,correct@0.7_low")
    )
    assert "**" in (out / "comparison.md").read_text()  # the best value per column is marked


def test_model_index_in_a_local_adapter_card(evaluated: Path, tmp_path: Path) -> None:
    from huggingface_hub import ModelCard

    from dsr.evaluation.model_card import write_model_card

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "README.md").write_text(
        "---\nlibrary_name: diffusers\ntags: [lora]\n---\n\n# My adapter\n"
    )
    results = json.loads((evaluated / "eval_results.json").read_text())
    write_model_card(str(adapter), results)
    write_model_card(str(adapter), results)  # a re-run replaces, never duplicates
    card = ModelCard.load(adapter / "README.md")
    entries = {e.metric_type: e for e in card.data.eval_results}
    assert len(card.data.eval_results) == len(entries)
    assert entries["correct@0.7"].metric_value == pytest.approx(
        results["metrics"]["correct@0.7"]["estimate"], abs=1e-6
    )
    assert (
        entries["correct@0.7"].task_type == "text-to-video"
        and entries["correct@0.7"].dataset_split == "test"
    )
    assert (
        card.data.library_name == "diffusers" and card.text.count("## Evaluation (dsr eval)") == 1
    )
    assert "# My adapter" in card.text


def test_model_card_on_the_hub_is_one_commit(evaluated: Path, hub, hub_token) -> None:  # type: ignore[no-untyped-def]
    from huggingface_hub import HfApi, ModelCard, hf_hub_download

    from dsr.evaluation.model_card import check_target, write_model_card

    repo = "tester/eval-card"
    api = HfApi()
    api.create_repo(repo, exist_ok=True)
    api.upload_file(
        path_or_fileobj=b"---\nlicense: apache-2.0\n---\n# adapter\n",
        path_in_repo="README.md",
        repo_id=repo,
    )
    before = hub.head(repo, repo_type="model")
    check_target(repo)
    sha = write_model_card(repo, json.loads((evaluated / "eval_results.json").read_text()))
    assert hub.head(repo, repo_type="model") == sha != before
    card = ModelCard.load(hf_hub_download(repo, "README.md", revision=sha))
    assert {e.metric_type for e in card.data.eval_results} >= {
        "correct@0.7",
        "id_consistency",
        "clip_iqa_natural",
    }


def test_eval_of_a_hub_dataset_at_a_tag_records_its_commit(
    dataset: Path, tmp_path: Path, hub, hub_token
) -> None:  # type: ignore[no-untyped-def]
    from dsr.hub import push_folder

    sha = push_folder(dataset, "tester/eval-ds", version="v1.0.0", config_names=["samples"])
    result = CliRunner().invoke(
        main,
        [
            "eval",
            "tester/eval-ds@v1.0.0",
            "--metrics",
            "dsr",
            "--out",
            str(tmp_path / "e"),
            "--n-resamples",
            "200",
        ],
    )
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "e" / "eval_results.json").read_text())
    assert results["model"]["dataset"]["repo_id"] == "tester/eval-ds"
    assert (results["model"]["dataset"]["revision"], results["model"]["dataset"]["commit"]) == (
        "v1.0.0",
        sha,
    )
    assert results["summary"]["n_samples"] == len(_samples(dataset))


def _results(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "eval_results.json").read_text())


def test_compare_refuses_two_variants_of_a_metric(tmp_path: Path, evaluated: Path) -> None:
    from dsr.evaluation.compare import compare

    other = tmp_path / "hf"
    shutil.copytree(evaluated, other)
    results = _results(other)
    results["metrics"]["clip_iqa_natural"]["variant"] = "hf-clip"
    (other / "eval_results.json").write_text(json.dumps(results))
    with pytest.raises(VariantMismatchError, match="--clip-iqa-variant authors"):
        compare([evaluated, other], tmp_path / "cmp", n_resamples=50)
    cli = CliRunner().invoke(
        main, ["eval", "compare", str(evaluated), str(other), "--out", str(tmp_path / "c")]
    )
    assert cli.exit_code == 1 and len(cli.output.strip().splitlines()) == 1
    assert "not comparable" in cli.output and not (tmp_path / "c" / "comparison.md").exists()
    legacy = tmp_path / "legacy"  # written before variants: ID consistency was time-order
    shutil.copytree(evaluated, legacy)
    results = _results(legacy)
    results["format_version"] = 1
    (legacy / "eval_results.json").write_text(json.dumps(results))
    with pytest.raises(VariantMismatchError, match="ID consistency .* time-order variant"):
        compare([evaluated, legacy], tmp_path / "cmp2", n_resamples=50)


def test_every_number_carries_its_variant(evaluated: Path, tmp_path: Path) -> None:
    from huggingface_hub import ModelCard

    from dsr.evaluation.model_card import update_card

    results = _results(evaluated)
    assert {k: results["metrics"][k].get("variant") for k in results["metrics"]} == {
        "correct@0.7": "exact",
        "mean_dsr_score": None,
        "id_consistency": "authors",
        "clip_iqa_natural": "authors",
        "clip_iqa_quality": "authors",
    }
    table = (evaluated / "table.md").read_text()
    assert "ID consistency [authors]" in table and "Correct@τ [exact]" in table
    card = ModelCard(update_card(None, results))
    names = {e.metric_type: (e.metric_name, e.metric_config) for e in card.data.eval_results}
    assert names["clip_iqa_natural"] == ("CLIP-IQA (natural) [authors]", "authors")
