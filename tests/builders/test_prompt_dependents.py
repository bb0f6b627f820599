"""build-prompts over a folder whose samples name its prompts: replacing prompts they depend on is
refused (or needs --force), re-running with the same settings is not."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dsr.builders.folder import DatasetFolder
from dsr.builders.prompts import PromptBuildConfig, build_prompts
from dsr.builders.videos import VideoBuildConfig, build_videos
from dsr.cli import main
from dsr.errors import ConfigError


def _prompt_files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "prompts").glob("*.parquet"))}


def _videos(root: Path, **kw) -> VideoBuildConfig:
    return VideoBuildConfig(
        prompts=str(root),
        out=str(root),
        generator="synthetic",
        tracker="annotations",
        generator_options={"num_frames": 24, "height": 64, "width": 96},
        seeds=(0,),
        limit=2,
        **kw,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "ds"
    build_prompts(PromptBuildConfig(out=root, n_train=6, n_test=6, seed=0))
    return root


@pytest.mark.parametrize(("merge", "named_by"), [(True, "samples"), (False, "unmerged samples")])
def test_prompts_that_samples_name_are_not_replaced_without_force(
    folder: Path, merge: bool, named_by: str
) -> None:
    build_videos(_videos(folder, consolidate=merge))  # 2 train prompts now have samples
    before = _prompt_files(folder)
    with pytest.raises(
        ConfigError, match=rf"would drop 2 prompts named by {named_by}\b.*pass --force"
    ):
        build_prompts(PromptBuildConfig(out=folder, n_train=6, n_test=6, seed=1))
    assert _prompt_files(folder) == before  # nothing replaced, the samples still find their prompts
    build_prompts(
        PromptBuildConfig(out=folder, n_train=6, n_test=6, seed=0)
    )  # same prompts again: fine
    assert _prompt_files(folder) == before
    build_prompts(PromptBuildConfig(out=folder, n_train=6, n_test=6, seed=1, replace=True))
    assert _prompt_files(folder) != before


def test_more_prompts_that_keep_the_named_ones_are_fine(tmp_path: Path) -> None:
    import polars as pl

    from dsr.prompts import DSRPrompt, DSRType

    animals, objects = ("cat", "dog", "fox"), ("bench", "rock", "stump")
    lines = [
        DSRPrompt("In a park", a, o, t.initial, t.final, "walks").render()
        for t in DSRType
        for a, o in zip(animals, objects, strict=True)
    ]
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(lines) + "\n")
    root = tmp_path / "from-file"

    def prompts(n_train: int) -> PromptBuildConfig:
        return PromptBuildConfig(
            out=root,
            backend="file",
            n_train=n_train,
            n_test=0,
            backend_options={"path": str(listing)},
        )

    build_prompts(prompts(6))
    build_videos(_videos(root))
    named = set(
        pl.read_parquet(DatasetFolder(root).data_files("samples", "train"))["prompt_id"].to_list()
    )
    build_prompts(prompts(12))  # the same list, more of it: the first six stay
    train = pl.read_parquet(DatasetFolder(root).data_files("prompts", "train"))[
        "prompt_id"
    ].to_list()
    assert len(train) == 12 and len(named) == 2 and named <= set(train)


def test_cli_refuses_in_one_line_naming_force_and_force_replaces(folder: Path) -> None:
    build_videos(_videos(folder))
    args = ["build-prompts", "--out", str(folder), "--n-train", "6", "--n-test", "6", "--seed", "1"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1 and len(refused.output.strip().splitlines()) == 1
    assert "--force" in refused.output and "Traceback" not in refused.output
    forced = CliRunner().invoke(main, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
