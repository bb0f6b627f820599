"""Pushing commands check the push before the long work and share their options; published files
name no local directory."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _videos_helpers import prompt_records, write_prompts
from click.testing import CliRunner

from dsr.builders.prompts import PromptBuildConfig, build_prompts
from dsr.cli import main
from dsr.hub import push_folder

VIDEO_ARGS = [
    "--generator",
    "synthetic",
    "--tracker",
    "annotations",
    "--seeds",
    "0-1",
    "--generator-opt",
    "num_frames=24",
    "--generator-opt",
    "height=64",
    "--generator-opt",
    "width=96",
]
PUSHING = ("build-prompts", "build-videos", "score-videos")


def _finished(root: Path) -> list[Path]:
    return list((root / ".dsr" / "videos").glob("*/shard-*/*.json"))


def _tagged_repo(repo_id: str, tmp_path: Path) -> str:
    """A Hub dataset repo that already has tag v1.0.0; returns the tagged commit."""
    other = tmp_path / "published"
    build_prompts(PromptBuildConfig(out=other, n_train=6, n_test=6))
    return push_folder(other, repo_id, version="v1.0.0")


@pytest.mark.parametrize("command", PUSHING)
def test_every_pushing_command_has_the_same_push_options(command: str) -> None:
    help_text = CliRunner().invoke(main, [command, "--help"]).output
    for option in ("--push REPO_ID", "--version TEXT", "--private", "--force"):
        assert option in help_text


def test_build_videos_with_a_taken_tag_stops_before_any_sample(
    hub, hub_token, tmp_path: Path
) -> None:
    first = _tagged_repo("tester/taken-videos", tmp_path)
    root = write_prompts(tmp_path / "ds", prompt_records(1))
    args = [
        "build-videos",
        "--prompts",
        str(root),
        "--out",
        str(root),
        *VIDEO_ARGS,
        "--push",
        "tester/taken-videos",
        "--version",
        "v1.0.0",
    ]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1 and len(refused.output.strip().splitlines()) == 1
    assert "already has tag v1.0.0" in refused.output and "--force" in refused.output
    assert _finished(root) == [] and hub.tags("tester/taken-videos") == {"v1.0.0": first}
    forced = CliRunner().invoke(main, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert len(_finished(root)) == 2 and hub.tags("tester/taken-videos")["v1.0.0"] != first


def test_build_videos_with_a_token_the_hub_refuses_stops_before_any_sample(
    hub, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_notthetoken1234567890")
    root = write_prompts(tmp_path / "ds", prompt_records(1))
    result = CliRunner().invoke(
        main,
        [
            "build-videos",
            "--prompts",
            str(root),
            "--out",
            str(root),
            *VIDEO_ARGS,
            "--push",
            "tester/any",
            "--version",
            "v1.0.0",
        ],
    )
    assert result.exit_code == 1 and "the Hub refused the token" in result.output
    assert _finished(root) == []


def test_score_videos_checks_the_push_first_and_pushes_after(
    hub, hub_token, tmp_path: Path
) -> None:
    from dsr.media import encode_video

    first = _tagged_repo("tester/taken-scores", tmp_path)
    root = write_prompts(tmp_path / "ds", prompt_records(1))
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "train-000_seed00.mp4").write_bytes(
        encode_video(np.zeros((4, 16, 16, 3), dtype=np.uint8), 8)
    )
    args = [
        "score-videos",
        str(videos),
        "--prompts",
        str(root),
        "--out",
        str(root),
        "--tracker",
        "annotations",
        "--push",
        "tester/taken-scores",
        "--version",
        "v1.0.0",
    ]
    refused = CliRunner().invoke(main, args)
    assert (
        refused.exit_code == 1
        and "already has tag v1.0.0" in refused.output
        and "--force" in refused.output
    )
    assert _finished(root) == []
    no_version = CliRunner().invoke(main, args[:-2])
    assert no_version.exit_code == 1 and "--push needs --version" in no_version.output
    forced = CliRunner().invoke(main, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert "pushed tester/taken-scores@v1.0.0" in forced.output
    pushed = hub.tags("tester/taken-scores")["v1.0.0"]
    assert pushed != first and any(
        p.startswith("samples/") for p in hub.files("tester/taken-scores", pushed)
    )


def test_published_card_and_record_name_no_local_directory(
    hub, hub_token, tmp_path: Path, monkeypatch
) -> None:
    listing = tmp_path / "inputs" / "list.txt"
    listing.parent.mkdir()
    listing.write_text(
        "A cat is on the left of a bench, then the cat walks to the right of the bench.\n"
    )
    root = tmp_path / "ds"
    for argv in (
        [
            "build-prompts",
            "--out",
            str(root),
            "--backend",
            "file",
            "--input",
            str(listing),
            "--n-train",
            "0",
            "--n-test",
            "6",
        ],
        [
            "build-videos",
            "--prompts",
            str(root),
            "--out",
            str(root),
            "--split",
            "test",
            *VIDEO_ARGS,
            "--push",
            "tester/no-paths",
            "--version",
            "v1.0.0",
        ],
    ):
        monkeypatch.setattr("sys.argv", ["dsr", *argv])  # the recorded command line
        result = CliRunner().invoke(main, argv)
        assert result.exit_code == 0, result.output
    published = hub.files("tester/no-paths", "v1.0.0")
    texts = {f"hub:{name}": published[name].decode() for name in ("README.md", "dsr_build.json")}
    texts.update(
        {f"local:{p.name}": p.read_text() for p in (root / "README.md", root / "dsr_build.json")}
    )
    for name, text in texts.items():
        assert str(tmp_path) not in text, name
    assert (
        "……" not in texts["hub:dsr_build.json"] + texts["hub:README.md"]
    )  # masked once, not twice
    local = json.loads(texts["local:dsr_build.json"])["configs"]
    record = json.loads(texts["hub:dsr_build.json"])["configs"]
    assert record["samples"]["settings"] == local["samples"]["settings"]
    assert record["prompts"]["settings"]["out"] == "."  # the folder itself
    assert (
        record["prompts"]["settings"]["backend_options"]["path"] == "…/list.txt"
    )  # outside it: name only
    assert record["samples"]["settings"]["test"]["prompts"] == "."
    assert record["samples"]["command"].startswith(
        "dsr build-videos --prompts . --out . --split test"
    )
    assert "--input …/list.txt" in record["prompts"]["command"]
