"""``dsr train`` on the command line: options generated from the config, any TrainingArguments
field passed through, the tiny embedded default, and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dsr.cli import main


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, ["train", *args])


def test_help_is_generated_from_the_config_and_imports_no_torch() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from dsr.cli import main; "
        "r = CliRunner().invoke(main, ['train', '--help']); print(r.output); "
        "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    ).stdout
    assert out.strip().endswith("NO-TORCH")
    text = " ".join(out.split())
    assert "--lambda-zo FLOAT Weight of the ZO term (paper: 0.25). [default: 0.25]" in text
    assert "--reg [zo|sft|none]" in text and "--pair-forward [batched|sequential]" in text
    assert "--learning-rate FLOAT Peak AdamW learning rate (paper: 1e-4). [default: 0.0001]" in text
    assert "Any transformers.TrainingArguments field is also accepted" in text


def test_tiny_run_with_passthrough_training_arguments(pairs_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    args = (
        "--tiny",
        "--dataset",
        str(pairs_dataset),
        "--output-dir",
        str(out),
        "--max-steps",
        "2",
        "--train-height",
        "32",
        "--train-width",
        "48",
        "--seed",
        "5",
        "--report-to",
        "tensorboard",
        "--save-total-limit=1",
        "--disable-tqdm",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--lora-target-modules",
        "blocks.*.attn2.to_k",
        "--lora-target-modules",
        "blocks.*.attn2.to_v",
    )
    result = _run(*args)
    assert result.exit_code == 0, result.output
    assert "trained 2 steps" in result.output and "rewards/margins" in result.output
    record = json.loads((out / "training_config.json").read_text())
    s = record["settings"]
    assert (s["seed"], s["save_total_limit"], s["max_steps"], s["train_height"]) == (5, 1, 2, 32)
    assert s["report_to"] == ["tensorboard"] and list((out / "runs").rglob("events.out.tfevents.*"))
    assert record["lora"]["target_modules"] == [
        "blocks.0.attn2.to_k",
        "blocks.1.attn2.to_k",
        "blocks.0.attn2.to_v",
        "blocks.1.attn2.to_v",
    ]
    assert record["base_model_name"] == "tiny-wan" and "dsr train --tiny" in record["command"]
    assert len(list(out.glob("checkpoint-*"))) == 1  # save_total_limit reached the Trainer
    again = _run(*args)
    assert again.exit_code == 0 and "already trained (2 steps)" in again.output


def test_precompute_only(pairs_dataset: Path, tmp_path: Path) -> None:
    result = _run(
        "--tiny",
        "--dataset",
        str(pairs_dataset),
        "--output-dir",
        str(tmp_path / "p"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--precompute-only",
    )
    assert result.exit_code == 0, result.output
    assert "cache: latents 20 computed / 20, text 4 / 4" in result.output
    assert not (tmp_path / "p" / "pytorch_lora_weights.safetensors").exists()
    assert len(list((tmp_path / "cache" / "latents").rglob("*.safetensors"))) == 20


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--beta", "0"], "Error: beta=0.0: must be > 0"),
        (["--nonsense", "3"], "Error: unknown option --nonsense: see `dsr train --help`"),
        (["--adam-epsilon", "big"], "Error: --adam-epsilon 'big': expected float"),
        (["--pairs-config", "pairs-vlm"], "has no `pairs-vlm` config (built: "),
        (
            ["--base-model", "/no/such/folder"],
            "Error: base model /no/such/folder is neither a folder nor a Hub repo id",
        ),
        (["--dataset", "/no/such/dataset"], "Error: dataset /no/such/dataset is not a folder"),
    ],
)
def test_bad_input_is_one_line(
    pairs_dataset: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    base = [
        "--dataset",
        str(pairs_dataset),
        "--output-dir",
        str(tmp_path / "o"),
        "--cache-dir",
        str(tmp_path / "c"),
    ]
    result = _run(*base, *args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
