"""Re-runs into an existing dataset folder: a finished build is a no-op, a second split keeps the
first (and the prompts), settings are kept per split, and inputs are checked before any work."""

from __future__ import annotations

from pathlib import Path

import pytest
from _videos_helpers import TINY, prompt_records
from click.testing import CliRunner

from dsr.builders.folder import ConfigRecord, DatasetFolder
from dsr.builders.videos import VideoBuildConfig, build_videos
from dsr.cli import main
from dsr.errors import ConfigError


def _config(root: Path, **kw) -> VideoBuildConfig:
    opts = {
        "generator": "synthetic",
        "generator_options": {**TINY, "scenario": "cycle"},
        "tracker": "annotations",
        "seeds": (0, 1, 2),
    }
    opts.update(kw)
    return VideoBuildConfig(prompts=str(root), out=str(root), **opts)


def _stamps(root: Path) -> dict[str, int]:
    files = [root / "README.md", root / "dsr_build.json", *root.glob("*/*.parquet")]
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in files}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A dataset folder with a `prompts` config of 2 train and 2 test prompts."""
    import datasets

    root = tmp_path / "ds"
    splits = {s: datasets.Dataset.from_list(prompt_records(2, s)) for s in ("train", "test")}
    DatasetFolder(root).write_config(
        "prompts", splits, ConfigRecord(description="test prompts", columns={})
    )
    return root


def test_rerun_of_a_finished_build_writes_nothing(folder: Path) -> None:
    first = build_videos(_config(folder, command="first"))
    assert first.built == 6 and first.merged is not None
    before = _stamps(folder)
    again = build_videos(_config(folder, command="second"))
    assert again.built == 0 and again.skipped == 6
    assert _stamps(folder) == before  # no parquet, card or record rewritten
    assert again.merged is not None and again.merged.samples == {"train": 6}
    assert again.merged.pairs == first.merged.pairs
    assert DatasetFolder(folder).config_record("samples")["command"] == "first"


def test_test_after_train_keeps_both_splits_prompts_and_settings(folder: Path) -> None:
    import datasets

    build_videos(_config(folder, command="dsr build-videos train"))
    prompts_files = {p: p.stat().st_mtime_ns for p in folder.glob("prompts/*.parquet")}
    build_videos(_config(folder, split="test", seeds=(0, 1), command="dsr build-videos test"))
    assert {p: p.stat().st_mtime_ns for p in folder.glob("prompts/*.parquet")} == prompts_files
    record = DatasetFolder(folder).read_record()["configs"]
    assert record["samples"]["splits"] == {"test": 4, "train": 6}
    assert set(record["pairs"]["splits"]) == {"test", "train"}
    assert record["prompts"]["splits"] == {"test": 2, "train": 2}
    settings = record["samples"]["settings"]
    assert settings["train"]["seeds"] == [0, 1, 2] and settings["test"]["seeds"] == [0, 1]
    assert "train" in record["samples"]["command"] and "test" in record["samples"]["command"]
    card = (folder / "README.md").read_text()
    assert "### `prompts`" in card and "config_name: prompts" in card
    for config in ("samples", "pairs"):
        loaded = datasets.load_dataset(str(folder), config)
        assert set(loaded) == {"train", "test"}


def test_merge_only_keeps_the_build_settings(folder: Path) -> None:
    build_videos(_config(folder, consolidate=False, command="dsr build-videos --no-merge"))
    result = CliRunner().invoke(
        main, ["build-videos", "--prompts", str(folder), "--out", str(folder), "--merge-only"]
    )
    assert result.exit_code == 0, result.output
    record = DatasetFolder(folder).config_record("samples")
    assert (
        record is not None
        and record["settings"]["train"]["generator"]["num_frames"] == TINY["num_frames"]
    )
    assert record["command"] == "dsr build-videos --no-merge"


def test_other_generator_settings_are_refused_before_any_work(folder: Path) -> None:
    build_videos(_config(folder))
    changed = _config(folder, seeds=(3,), generator_options={**TINY, "scenario": "cycle", "fps": 4})
    with pytest.raises(ConfigError, match=r"generator\.fps: 8 → 4"):
        build_videos(changed)
    assert (
        build_videos(_config(folder, seeds=(0, 1, 2, 3))).built == 2
    )  # more seeds, same recipe: fine


@pytest.mark.parametrize(
    "kw", [{"limit": 0}, {"limit": -1}, {"tau_train": 2.0}, {"rows_per_shard": 0}]
)
def test_bad_config_values_fail_at_once(tmp_path: Path, kw: dict) -> None:
    with pytest.raises(ConfigError):
        _config(tmp_path, **kw)


@pytest.mark.parametrize(
    ("opt", "needle"),
    [
        ("bogus=1", "option bogus for 'synthetic' (--generator-opt): it takes num_frames"),
        ("num_frames=abc", "num_frames='abc'"),
    ],
)
def test_bad_generator_option_is_one_line_without_traceback(
    folder: Path, opt: str, needle: str
) -> None:
    result = CliRunner().invoke(
        main,
        [
            "build-videos",
            "--prompts",
            str(folder),
            "--out",
            str(folder),
            "--generator",
            "synthetic",
            "--tracker",
            "annotations",
            "--generator-opt",
            opt,
        ],
    )
    assert result.exit_code == 1
    assert needle in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_pairs_are_drawn_one_winner_one_loser_per_step(folder: Path) -> None:
    import random

    import datasets

    from dsr.builders.pairs import PAIR_COLUMNS, draw_pair

    build_videos(_config(folder, seeds=tuple(range(10))))
    pairs = datasets.load_dataset(str(folder), "pairs", split="train")
    samples = datasets.load_dataset(str(folder), "samples", split="train").remove_columns("video")
    scores = {r["sample_id"]: (r["valid"], r["dsr_score"]) for r in samples}
    valid_scores: dict[str, list[float]] = {}
    for r in samples:
        valid_scores.setdefault(r["prompt_id"], []).extend([r["dsr_score"]] if r["valid"] else [])
    # docs/method.md §5: a prompt takes part with two valid samples, one winner (≥ 0.7) and one
    # loser
    expected = sorted(p for p, s in valid_scores.items() if len(s) >= 2 and max(s) >= 0.7 > min(s))
    assert expected and sorted(pairs["prompt_id"]) == expected
    rng = random.Random(0)
    for row in pairs:
        drawn = [draw_pair(row, rng) for _ in range(200)]
        assert {c for c, _ in drawn} == set(row["chosen_ids"]) and {r for _, r in drawn} == set(
            row["rejected_ids"]
        )
        for chosen, rejected in drawn:
            assert scores[chosen][0] and scores[chosen][1] >= row["tau"]
            assert scores[rejected][0] and scores[rejected][1] < row["tau"]
    assert "random.choice(row['chosen_ids'])" in PAIR_COLUMNS["chosen_ids"]
    assert "draw_pair" in (folder / "README.md").read_text()


@pytest.mark.parametrize("where", ["missing", "file"])
def test_prompts_path_that_is_not_a_folder_says_so(tmp_path: Path, where: str) -> None:
    source = tmp_path / "nope"
    if where == "file":
        source.write_text("x")
    result = CliRunner().invoke(
        main,
        [
            "build-videos",
            "--prompts",
            str(source),
            "--out",
            str(tmp_path / "out"),
            "--generator",
            "synthetic",
            "--tracker",
            "annotations",
        ],
    )
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert ("does not exist" if where == "missing" else "is a file") in result.output
    assert "build-prompts" in result.output and "FileNotFoundError" not in result.output
