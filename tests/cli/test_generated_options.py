"""The commands' options come from the config dataclasses: help texts and defaults are the
configs', each option reaches the config (or the tracker) it belongs to, and ``--help`` loads no
heavy library."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from dsr.builders.prompt_backends.openai_chat import OpenAIBackendConfig
from dsr.builders.prompt_config import PromptBuildConfig
from dsr.builders.score_videos import ScoreVideosConfig
from dsr.builders.videos import VideoBuildConfig
from dsr.cli import COMMANDS, main
from dsr.cli._dataclass_options import field_kwargs
from dsr.cli._options import tracker_kwargs
from dsr.cli.build_prompts import _backend_options
from dsr.media import EncodeConfig
from dsr.scoring import ScoreConfig
from dsr.tracking.audit import AuditConfig
from dsr.tracking.grounded_sam2 import GroundedSam2Config
from dsr.tracking.sam3 import Sam3Config

HEAVY = ("torch", "transformers", "diffusers", "datasets", "accelerate", "peft")


def _params(command: str, args: list[str]) -> dict[str, Any]:
    """The keyword arguments click hands the command for ``args``."""
    cmd = main.get_command(click.Context(main), command)
    assert cmd is not None
    return dict(cmd.make_context(command, list(args)).params)


def _help(command: str) -> str:
    cmd = main.get_command(click.Context(main), command)
    assert cmd is not None
    wide = click.Context(
        cmd, info_name=command, terminal_width=1000, max_content_width=1000
    )  # no wrapped words
    return " ".join(cmd.get_help(wide).split())


def _field_help(cls: type, name: str) -> str:
    return " ".join(
        next(f for f in dataclasses.fields(cls) if f.name == name).metadata["help"].split()
    )


def test_help_of_every_command_loads_no_heavy_library() -> None:
    code = (
        "import json, sys; from click.testing import CliRunner; from dsr.cli import "
        "COMMANDS, main\n"
        "codes = [CliRunner().invoke(main, [*c, '--help']).exit_code for c in [[], *([n] for n "
        "in COMMANDS)]]\n"
        f"print(json.dumps([codes, [m for m in {HEAVY!r} if m in sys.modules]]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    codes, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert codes == [0] * (len(COMMANDS) + 1) and loaded == []


@pytest.mark.parametrize(
    ("command", "option", "cls", "name"),
    [
        ("build-prompts", "--n-train", PromptBuildConfig, "n_train"),
        ("build-prompts", "--model", OpenAIBackendConfig, "model"),
        ("build-videos", "--limit", VideoBuildConfig, "limit"),
        ("build-videos", "--crf", EncodeConfig, "crf"),
        ("build-videos", "--detector-batch-size", GroundedSam2Config, "batch_size"),
        ("score-videos", "--model-name", ScoreVideosConfig, "model_name"),
        ("score-videos", "--sam3", Sam3Config, "model"),
        ("audit-tracker", "--frames", AuditConfig, "num_frames"),
        ("score", "--min-frames", ScoreConfig, "min_frames"),
    ],
)
def test_option_help_and_default_are_the_configs(
    command: str, option: str, cls: type, name: str
) -> None:
    text = _help(command)
    default = {f.name: f.default for f in dataclasses.fields(cls)}[name]
    shown = "" if default is None else f" [default: {default}]"
    start = text.index(option + " ")
    assert _field_help(cls, name) + shown in text[start : start + 400]


def test_unset_options_leave_the_configs_defaults() -> None:
    params = _params("build-videos", ["--prompts", "p", "--out", "o"])
    assert VideoBuildConfig(**field_kwargs(VideoBuildConfig, params)) == VideoBuildConfig(
        prompts="p", out="o"
    )
    assert tracker_kwargs(params) == {}


def test_build_videos_batch_size_and_the_detectors_are_separate() -> None:
    base = ["--prompts", "p", "--out", "o"]
    own = _params("build-videos", [*base, "--batch-size", "3"])
    assert (field_kwargs(VideoBuildConfig, own)["batch_size"], tracker_kwargs(own)) == (3, {})
    detector = _params("build-videos", [*base, "--detector-batch-size", "4"])
    assert "batch_size" not in field_kwargs(VideoBuildConfig, detector)
    assert tracker_kwargs(detector) == {"batch_size": 4}


@pytest.mark.parametrize(
    ("tracker", "expected"),
    [
        (
            "grounded-sam2",
            {"label_match": "exact", "detector": "gd", "device": "cpu", "box_threshold": 0.5},
        ),
        ("sam3", {"label_match": "exact", "model": "s3", "device": "cpu"}),
        ("annotations", {"label_match": "exact"}),
    ],
)
def test_each_tracker_takes_only_the_model_options_of_its_config(
    tracker: str, expected: dict[str, Any]
) -> None:
    args = [
        "--tracker",
        tracker,
        "--detector",
        "gd",
        "--sam3",
        "s3",
        "--device",
        "cpu",
        "--box-threshold",
        "0.5",
        "--tracker-opt",
        "label_match=exact",
    ]
    params = _params(
        "score-videos", [str(Path(__file__).parent), "--prompts", "p", "--out", "o", *args]
    )
    assert tracker_kwargs(params) == expected


def test_an_option_of_its_own_wins_over_the_same_tracker_opt() -> None:
    params = _params(
        "audit-tracker", ["--tracker-opt", "box_threshold=0.2", "--box-threshold", "0.5"]
    )
    assert tracker_kwargs(params) == {"box_threshold": 0.5}


def test_build_prompts_passes_only_the_chosen_backends_options(tmp_path: Path) -> None:
    listed = tmp_path / "prompts.txt"
    listed.write_text("x\n")
    args = [
        "--out",
        "o",
        "--model",
        "m",
        "--json-mode",
        "--per-request",
        "3",
        "--input",
        str(listed),
    ]
    params = _params("build-prompts", args)
    assert _backend_options("openai", params) == {
        "model": "m",
        "per_request": 3,
        "structured": False,
    }
    assert _backend_options("file", params) == {"path": str(listed)}
    assert _backend_options("template", params) == {}
    assert field_kwargs(PromptBuildConfig, params) == {"out": Path("o")}


def test_score_videos_splits_and_audit_frames_reach_their_configs() -> None:
    params = _params(
        "score-videos",
        [
            str(Path(__file__).parent),
            "--prompts",
            "p",
            "--out",
            "o",
            "--split",
            "test",
            "--model-name",
            "wan",
        ],
    )
    assert field_kwargs(ScoreVideosConfig, params) == {
        "videos": str(Path(__file__).parent),
        "prompts": "p",
        "out": "o",
        "splits": ("test",),
        "model_name": "wan",
        "tracker": "grounded-sam2",
    }
    audit = _params("audit-tracker", ["--frames", "30", "--seeds", "1", "--paper-exact"])
    assert field_kwargs(AuditConfig, audit) == {"num_frames": 30, "seeds": 1, "paper_exact": True}


def test_every_command_is_listed() -> None:
    assert set(COMMANDS) >= {
        "build-prompts",
        "build-videos",
        "score-videos",
        "audit-tracker",
        "score",
        "train",
    }
