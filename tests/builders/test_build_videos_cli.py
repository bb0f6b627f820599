"""``dsr build-videos`` from the command line, the push to a (loopback) Hub, and ``dsr demo``."""

from __future__ import annotations

from pathlib import Path

from _videos_helpers import prompt_records, write_prompts
from click.testing import CliRunner

from dsr.cli import main

ARGS = [
    "--generator",
    "synthetic",
    "--tracker",
    "annotations",
    "--seeds",
    "0-2",
    "--generator-opt",
    "num_frames=32",
    "--generator-opt",
    "height=64",
    "--generator-opt",
    "width=96",
    "--generator-opt",
    "scenario=cycle",
]


def test_cli_builds_pushes_and_loads_by_tag(tmp_path: Path, hub, hub_token: str) -> None:
    import datasets

    prompts = write_prompts(tmp_path / "ds", prompt_records(2))
    result = CliRunner().invoke(
        main,
        [
            "build-videos",
            "--prompts",
            str(prompts),
            "--out",
            str(prompts),
            *ARGS,
            "--push",
            "tester/dsr-videos",
            "--version",
            "v0.1.0",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Correct@0.7" in result.output and "pushed tester/dsr-videos@v0.1.0" in result.output
    samples = datasets.load_dataset(
        "tester/dsr-videos", "samples", split="train", revision="v0.1.0"
    )
    pairs = datasets.load_dataset("tester/dsr-videos", "pairs", split="train", revision="v0.1.0")
    prompts_ds = datasets.load_dataset(
        "tester/dsr-videos", "prompts", split="train", revision="v0.1.0"
    )
    assert len(samples) == 6 and len(prompts_ds) == 2 and len(pairs) <= 2
    raw = samples.cast_column("video", datasets.Video(decode=False))[0]["video"]
    assert raw["bytes"][4:8] == b"ftyp"
    assert "hf_" not in (prompts / "dsr_build.json").read_text()
    pushed = hub.files("tester/dsr-videos", "v0.1.0")
    assert (prompts / ".dsr" / "videos").is_dir() and any(p.startswith("samples/") for p in pushed)
    assert not [
        p for p in pushed if p.startswith(".dsr") or "/." in p or p.endswith(".tmp")
    ]  # work area stays local


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    prompts = write_prompts(tmp_path / "ds", prompt_records(1))
    bad = CliRunner().invoke(
        main,
        [
            "build-videos",
            "--prompts",
            str(prompts),
            "--out",
            str(prompts),
            "--generator",
            "nope",
            "--tracker",
            "annotations",
        ],
    )
    assert bad.exit_code == 1 and "unknown generator 'nope'" in bad.output
    push = CliRunner().invoke(
        main,
        ["build-videos", "--prompts", str(prompts), "--out", str(prompts), *ARGS, "--push", "a/b"],
    )
    assert push.exit_code == 1 and "--version" in push.output


def test_merge_only_and_no_merge(tmp_path: Path) -> None:
    prompts = write_prompts(tmp_path / "ds", prompt_records(1))
    first = CliRunner().invoke(
        main,
        ["build-videos", "--prompts", str(prompts), "--out", str(prompts), *ARGS, "--no-merge"],
    )
    assert first.exit_code == 0 and "not merged yet" in first.output
    assert not (prompts / "samples").exists()
    merged = CliRunner().invoke(
        main, ["build-videos", "--prompts", str(prompts), "--out", str(prompts), "--merge-only"]
    )
    assert merged.exit_code == 0, merged.output
    assert len(list((prompts / "samples").glob("*.parquet"))) == 1
