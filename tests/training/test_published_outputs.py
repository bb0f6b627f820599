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
