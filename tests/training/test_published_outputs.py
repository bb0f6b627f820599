"""What a user of a trained adapter receives: the model card and the files beside it, as the
Trainer and diffusers' training scripts leave them, with no local path of the training machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from markup import details_closed

from dsr.cli import main


@pytest.fixture(scope="module")
def cli_run(pairs_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("published") / "adapter"
    args = ["train", "--tiny", "--dataset", str(pairs_dataset), "--output-dir", str(out)]
    args += ["--max-steps", "2", "--train-height", "32", "--train-width", "48", "--disable-tqdm"]
    args += ["--cache-dir", str(out.parent / "cache")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out


def test_card_and_record_name_no_local_path(cli_run: Path, pairs_dataset: Path) -> None:
    card = (cli_run / "README.md").read_text(encoding="utf-8")
    record = json.loads((cli_run / "training_config.json").read_text(encoding="utf-8"))
    for text in (card, json.dumps(record, ensure_ascii=False)):
        assert str(cli_run.parent) not in text and str(pairs_dataset.parent) not in text
    # the command keeps each folder's last part, as the dataset cards do
    assert f"--dataset …/{pairs_dataset.name} --output-dir …/adapter" in record["command"]
    assert record["command"] in card


def test_card_sections_close(cli_run: Path) -> None:
    assert details_closed((cli_run / "README.md").read_text(encoding="utf-8")) >= 2


def test_trainer_files_beside_the_log(cli_run: Path) -> None:
    """As transformers' example scripts leave them: save_metrics("train", ...) and save_state()."""
    results = json.loads((cli_run / "train_results.json").read_text(encoding="utf-8"))
    assert {"train_runtime", "train_samples_per_second", "train_loss"} <= set(results)
    assert json.loads((cli_run / "all_results.json").read_text(encoding="utf-8")) == results
    state = json.loads((cli_run / "trainer_state.json").read_text(encoding="utf-8"))
    assert state["global_step"] == 2 and state["max_steps"] == 2
    log = [json.loads(line) for line in (cli_run / "training_log.jsonl").open(encoding="utf-8")]
    assert state["log_history"] == log
    assert str(cli_run.parent) not in (cli_run / "trainer_state.json").read_text(encoding="utf-8")


def test_card_has_what_a_hub_user_looks_for(cli_run: Path) -> None:
    import diffusers
    import peft
    import torch
    import transformers

    from dsr import __version__

    card = (cli_run / "README.md").read_text(encoding="utf-8")
    versions = card.split("### Framework versions", 1)[1].split("## Citation", 1)[0]
    for name, module_version in [
        ("torch", torch.__version__),
        ("diffusers", diffusers.__version__),
        ("transformers", transformers.__version__),
        ("peft", peft.__version__),
        ("spatialalign", __version__),
    ]:
        assert f"- {name}: {module_version.split('+')[0]}" in versions  # pip's version
    assert "## Intended uses and limitations" in card and "## Training data" in card
    bibtex = card.split("```bibtex\n", 1)[1].split("```", 1)[0]
    assert "eprint        = {2602.22745}" in bibtex
    evaluation = card.split("## Evaluation", 1)[1].split("## Reproduce", 1)[0]
    assert (
        "dsr eval eval-samples --out eval/spatialalign --model-card path/to/this/folder"
        in evaluation
    )
    assert "LoRA alpha 16 over rank 16" in card  # the tiny run's settings
