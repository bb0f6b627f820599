"""``dsr train --push-to-hub`` follows ``TrainingArguments``: a flag (optionally ``true``/``false``)
with the repo in ``--hub-model-id``, plus dsr's ``--version`` tag; every part of it is checked
before training."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dsr.cli import main
from dsr.training.preflight import hub_repo_id

REPO = "tester/push-flag"


def _train(pairs_dataset: Path, out: Path, *extra: str) -> Result:
    args = ["train", "--tiny", "--dataset", str(pairs_dataset), "--output-dir", str(out)]
    args += ["--max-steps", "1", "--train-height", "32", "--train-width", "48", "--disable-tqdm"]
    return CliRunner().invoke(main, [*args, "--cache-dir", str(out.parent / "cache"), *extra])


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (
            ["--push-to-hub", REPO],
            f"--push-to-hub is a flag, as in TrainingArguments; give the repo with --hub-model-id "
            f"{REPO}",
        ),
        (["--push-to-hub"], "a push to 'out' without a namespace goes to your Hub user"),
        (["--hub-model-id", REPO, "--version", "v1.0.0"], "--version applies to a push"),
        (["--push-to-hub", "false", "--version", "v1.0.0"], "--version applies to a push"),
        (["--push-to-hub", "--hub-model-id", REPO], "no Hugging Face token"),
    ],
)
def test_push_settings_are_refused_before_training(
    pairs_dataset: Path, tmp_path: Path, hub, monkeypatch, extra: list[str], needle: str
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("HF_TOKEN", raising=False)
    result = _train(pairs_dataset, tmp_path / "out", *extra)
    assert result.exit_code == 1 and needle in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "pytorch_lora_weights.safetensors").exists()


def test_flag_pushes_to_hub_model_id_with_the_version_tag(
    pairs_dataset: Path, tmp_path: Path, hub, hub_token
) -> None:  # type: ignore[no-untyped-def]
    # transformers' spelling with an explicit value, the repo given first
    extra = ["--hub-model-id", REPO, "--push-to-hub", "true", "--version", "v1.0.0"]
    result = _train(pairs_dataset, tmp_path / "out", *extra)
    assert result.exit_code == 0, result.output
    assert hub.tags(REPO, repo_type="model") == {"v1.0.0": hub.head(REPO, repo_type="model")}
    assert "pytorch_lora_weights.safetensors" in hub.files(REPO, "v1.0.0", repo_type="model")


@pytest.mark.slow  # a training run; test_default_repo_is_the_users_output_dir_name: fast
def test_flag_without_repo_pushes_to_user_slash_output_dir_name(
    pairs_dataset: Path, tmp_path: Path, hub, hub_token
) -> None:  # type: ignore[no-untyped-def]
    # transformers: hub_model_id None → <user>/<name of output_dir>; the test Hub's user is "tester"
    result = _train(pairs_dataset, tmp_path / "my-adapter", "--push-to-hub", "--version", "v1.0.0")
    assert result.exit_code == 0, result.output
    assert "pushed:" in result.output
    files = hub.files("tester/my-adapter", "v1.0.0", repo_type="model")
    assert "pytorch_lora_weights.safetensors" in files


def test_a_refused_token_stops_the_default_repo_before_training(
    pairs_dataset: Path, tmp_path: Path, hub, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HF_TOKEN", "hf_not_the_test_hub_token")
    result = _train(pairs_dataset, tmp_path / "out", "--push-to-hub")
    assert result.exit_code == 1 and "the Hub refused the token" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_default_repo_is_the_users_output_dir_name(tmp_path: Path, hub, hub_token) -> None:  # type: ignore[no-untyped-def]
    # transformers names the repo after output_dir's last part; a bare name is the user's
    assert hub_repo_id(None, tmp_path / "runs" / "zo-adapter") == "tester/zo-adapter"
    assert hub_repo_id("bare-name", tmp_path / "x") == "tester/bare-name"
    assert hub_repo_id("org/named", tmp_path / "x") == "org/named"
