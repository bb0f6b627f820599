"""dsr.hub.push_folder against the loopback test Hub, with the real huggingface_hub and datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsr.builders.folder import ConfigRecord, DatasetFolder
from dsr.builders.prompts import PromptBuildConfig, build_prompts
from dsr.errors import ConfigError, HubError
from dsr.hub import push_folder


def build(folder: Path, seed: int) -> list[dict]:
    import datasets

    build_prompts(PromptBuildConfig(out=folder, n_train=6, n_test=6, seed=seed))
    return datasets.load_dataset(str(folder), "prompts", download_mode="force_redownload")[
        "test"
    ].to_list()


def remote(
    repo_id: str, config: str = "prompts", revision: str | None = None, split: str = "test"
) -> list[dict]:
    import datasets

    return datasets.load_dataset(repo_id, config, revision=revision)[split].to_list()


def test_push_tag_second_version_and_load_old_tag(hub, hub_token, tmp_path):
    folder = tmp_path / "ds1"
    first_rows = build(folder, seed=0)
    sha1 = push_folder(folder, "tester/prompts-a", version="v1.0.0")
    assert hub.tags("tester/prompts-a") == {"v1.0.0": sha1} and hub.head("tester/prompts-a") == sha1
    assert not any(p.startswith(".dsr") for p in hub.files("tester/prompts-a", "v1.0.0"))
    second_rows = build(folder, seed=1)
    assert second_rows != first_rows
    sha2 = push_folder(folder, "tester/prompts-a", version="v1.1.0")
    assert sha2 != sha1 and hub.tags("tester/prompts-a")["v1.1.0"] == sha2
    assert remote("tester/prompts-a", revision="v1.0.0") == first_rows
    assert remote("tester/prompts-a", revision="v1.1.0") == second_rows
    assert remote("tester/prompts-a") == second_rows
    card = hub.files("tester/prompts-a", "v1.1.0")["README.md"].decode()
    assert 'load_dataset("tester/prompts-a", "prompts", revision="v1.1.0")' in card


def test_existing_tag_is_never_moved_without_force(hub, hub_token, tmp_path):
    folder = tmp_path / "ds2"
    build(folder, seed=0)
    sha1 = push_folder(folder, "tester/prompts-b", version="v1.0.0")
    build(folder, seed=2)
    with pytest.raises(HubError, match="already has tag v1.0.0"):
        push_folder(folder, "tester/prompts-b", version="v1.0.0")
    assert hub.head("tester/prompts-b") == sha1  # refused before uploading anything
    sha2 = push_folder(folder, "tester/prompts-b", version="v1.0.0", force=True)
    assert hub.tags("tester/prompts-b") == {"v1.0.0": sha2}


def test_push_keeps_configs_that_only_the_remote_has(hub, hub_token, tmp_path):
    import datasets

    other = tmp_path / "other-machine"
    DatasetFolder(other).write_config(
        "samples",
        {"train": datasets.Dataset.from_dict({"sample_id": ["s1", "s2"]})},
        ConfigRecord(description="videos", columns={"sample_id": "id"}),
    )
    push_folder(other, "tester/prompts-c", version=None)
    local = tmp_path / "ds3"
    rows = build(local, seed=0)
    sha = push_folder(local, "tester/prompts-c", version="v2.0.0", config_names=["prompts"])
    files = hub.files("tester/prompts-c", sha)
    assert [p for p in files if p.startswith("samples/train-") and p.endswith(".parquet")]
    card = files["README.md"].decode()
    assert "config_name: samples" in card and "config_name: prompts" in card
    assert remote("tester/prompts-c", revision="v2.0.0") == rows
    assert (
        remote("tester/prompts-c", "samples", revision="v2.0.0", split="train")[0]["sample_id"]
        == "s1"
    )
    assert DatasetFolder(local).config_names() == ["prompts"]  # the local folder is untouched


def test_refusals_name_the_fix(hub, tmp_path, monkeypatch):
    folder = tmp_path / "ds4"
    build(folder, seed=0)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "no-token"))
    with pytest.raises(HubError, match="HF_TOKEN"):
        push_folder(folder, "tester/prompts-d", version="v1.0.0")
    with pytest.raises(ConfigError, match="vMAJOR"):
        push_folder(folder, "tester/prompts-d", version="1.0", token=hub.token)
    with pytest.raises(ConfigError, match="samples"):
        push_folder(
            folder, "tester/prompts-d", version=None, token=hub.token, config_names=["samples"]
        )
    with pytest.raises(HubError, match="refused"):
        push_folder(folder, "tester/prompts-d", version=None, token="hf_notthetoken123456")


def test_cli_push_writes_no_token_anywhere(hub, hub_token, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from dsr.cli import main

    folder = tmp_path / "ds5"
    argv = [
        "build-prompts",
        "--out",
        str(folder),
        "--n-train",
        "6",
        "--n-test",
        "6",
        "--push",
        "tester/prompts-e",
        "--version",
        "v0.1.0",
        "--private",
    ]
    monkeypatch.setattr("sys.argv", ["dsr", *argv])
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    assert (
        "pushed tester/prompts-e@v0.1.0" in result.output and hub.repo("tester/prompts-e").private
    )
    written = [p.read_bytes() for p in folder.rglob("*") if p.is_file()]
    written += list(hub.files("tester/prompts-e", "v0.1.0").values())
    assert not any(hub_token.encode() in data for data in written)


def test_push_uploads_only_the_data_files_the_card_names(hub, hub_token, tmp_path):
    folder = tmp_path / "ds6"
    build(folder, seed=0)
    (folder / "prompts" / "train-leftover-00000-of-00001.parquet").write_bytes(b"from a killed run")
    sha = push_folder(folder, "tester/prompts-f", version="v1.0.0")
    pushed = {p for p in hub.files("tester/prompts-f", sha) if p.startswith("prompts/")}
    assert pushed == {
        p.relative_to(folder).as_posix()
        for s in ("train", "test")
        for p in DatasetFolder(folder).data_files("prompts", s)
    }
