"""The dataset folder: atomic config writes, build record, card, and no secret in
published files."""

from __future__ import annotations

import json
import stat

import datasets
import pytest

from dsr.builders.folder import BUILD_RECORD, CARD, ConfigRecord, DatasetFolder
from dsr.cards import mask_secrets, sanitize_command


def _record(**settings: object) -> ConfigRecord:
    return ConfigRecord(description="Numbers.", columns={"a": "a number"}, settings=dict(settings))


def test_configs_accumulate_and_load(tmp_path) -> None:
    folder = DatasetFolder(tmp_path / "ds")
    folder.write_config("prompts", {"train": datasets.Dataset.from_dict({"a": [1, 2]})}, _record())
    folder.write_config("pairs", {"train": datasets.Dataset.from_dict({"b": ["x"]})}, _record())
    folder.write_config(
        "prompts",
        {
            "train": datasets.Dataset.from_dict({"a": [3]}),
            "test": datasets.Dataset.from_dict({"a": [4]}),
        },
        _record(),
    )
    assert set(folder.config_names()) == {"prompts", "pairs"}
    card_text = (folder.root / CARD).read_text()
    assert card_text.index("config_name: prompts") < card_text.index("config_name: pairs")
    assert card_text.index("split: train") < card_text.index("split: test")
    loaded = datasets.load_dataset(str(folder.root), "prompts", download_mode="force_redownload")
    assert loaded["train"]["a"] == [3] and loaded["test"]["a"] == [4]
    assert datasets.load_dataset(str(folder.root), "pairs", split="train")["b"] == ["x"]
    assert folder.config_record("prompts")["splits"] == {"train": 1, "test": 1}
    card = (folder.root / CARD).read_text()
    assert "config_name: prompts" in card and "config_name: pairs" in card
    assert stat.S_IMODE((folder.root / CARD).stat().st_mode) == 0o644


def test_sharding_splits_rows_over_files(tmp_path) -> None:
    folder = DatasetFolder(tmp_path / "ds")
    folder.write_config(
        "samples",
        {"train": datasets.Dataset.from_dict({"a": list(range(7))})},
        _record(),
        max_rows_per_shard=3,
    )
    files = [p.name for p in folder.data_files("samples", "train")]
    fingerprint = folder.config_record("samples")["data_fingerprints"]["train"]
    assert files == [f"train-{fingerprint}-0000{i}-of-00003.parquet" for i in range(3)]
    assert sorted(datasets.load_dataset(str(folder.root), "samples", split="train")["a"]) == list(
        range(7)
    )


@pytest.mark.parametrize(
    "secret",
    [
        "https://alice:s3cretpass@llm.example/v1",
        "hf_abcdefghijklmnopqrst",
        "sk-proj-abcdefghijklmnop",
    ],
)
def test_no_secret_reaches_the_card_or_build_record(tmp_path, secret: str) -> None:
    folder = DatasetFolder(tmp_path / "ds")
    record = _record(base_url=secret, nested={"url": secret})
    record.command = f"dsr build-prompts --base-url {secret}"
    folder.write_config("prompts", {"train": datasets.Dataset.from_dict({"a": [1]})}, record)
    hidden = secret.split("://")[-1].split("@")[0] if "@" in secret else secret
    for name in (CARD, BUILD_RECORD):
        assert hidden not in (folder.root / name).read_text()
    json.loads((folder.root / BUILD_RECORD).read_text())  # masking keeps the record valid JSON


def test_sanitize_command_masks_secret_options() -> None:
    line = sanitize_command(
        ["dsr", "x", "--api-key", "abc123secret", "--token=hf_zzzzzzzzzzzzzzz", "--n", "3"]
    )
    assert "abc123secret" not in line and "hf_zzz" not in line and "--n 3" in line
    assert (
        mask_secrets("http://u:p@host/v1 and https://host/v1")
        == "http://***@host/v1 and https://host/v1"
    )


def test_a_rebuilt_folder_loads_its_new_rows_not_a_stale_cache(tmp_path) -> None:
    """datasets caches a local folder by its name and `configs` block; the content fingerprint in
    the data file patterns makes a rebuild (or another folder of the same name)
    load its own rows."""
    first, second = tmp_path / "a" / "ds", tmp_path / "b" / "ds"
    DatasetFolder(first).write_config(
        "prompts", {"train": datasets.Dataset.from_dict({"a": [1, 2]})}, _record()
    )
    assert datasets.load_dataset(str(first), "prompts", split="train")["a"] == [1, 2]
    DatasetFolder(second).write_config(
        "prompts", {"train": datasets.Dataset.from_dict({"a": [7, 8]})}, _record()
    )
    assert datasets.load_dataset(str(second), "prompts", split="train")["a"] == [7, 8]
    DatasetFolder(first).write_config(
        "prompts", {"train": datasets.Dataset.from_dict({"a": [5, 6]})}, _record()
    )
    assert datasets.load_dataset(str(first), "prompts", split="train")["a"] == [5, 6]
    assert len(list((first / "prompts").glob("*.parquet"))) == 1  # the old shard is gone


def test_rewriting_the_same_rows_keeps_the_same_files(tmp_path) -> None:
    folder = DatasetFolder(tmp_path / "ds")
    rows = {"train": datasets.Dataset.from_dict({"a": [1, 2]})}
    folder.write_config("prompts", rows, _record())
    before = {p.name: p.read_bytes() for p in folder.data_files("prompts", "train")}
    folder.write_config("prompts", rows, _record())
    assert {p.name: p.read_bytes() for p in folder.data_files("prompts", "train")} == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("--out /work/ds --prompts /work/ds/", "--out . --prompts ."),
        ('{"f": "/work/ds/assets/a.png"}', '{"f": "assets/a.png"}'),
        ("--input /home/me/lists/eval120.csv", "--input …/eval120.csv"),
        ("detector=~/models/gdino/ and /data/wan/", "detector=…/gdino and …/wan"),
        ("dsr a --out /work/ds\\ndsr b", "dsr a --out .\\ndsr b"),  # a JSON escape ends the path
        ("https://host/a/b org/name ./rel ../up assets/x 1/2 r / 8 …/done", None),  # left alone
    ],
)
def test_local_paths_become_relative_or_their_last_part(text: str, expected: str | None) -> None:
    from dsr.cards import mask_local_paths

    masked = mask_local_paths(text, "/work/ds")
    assert masked == (text if expected is None else expected)
    assert mask_local_paths(masked, "/work/ds") == masked  # masking twice changes nothing
