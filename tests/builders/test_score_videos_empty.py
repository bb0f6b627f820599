"""`dsr score-videos` over a folder none of whose files matches a prompt is an error that says what
was expected and what was found, not an empty success."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from dsr.builders.prompts import PromptBuildConfig, build_prompts
from dsr.cli import main


def test_no_matching_video_is_an_error_naming_the_pattern_and_the_first_files(
    tmp_path: Path,
) -> None:
    prompts = tmp_path / "prompts"
    build_prompts(PromptBuildConfig(out=prompts, backend="template", n_train=6, n_test=6))
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("clip_03.mp4", "clip_01.mp4", "notes.txt", "clip_02.mp4"):
        (videos / name).write_bytes(b"x")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["score-videos", str(videos), "--prompts", str(prompts), "--out", str(out)]
        + ["--tracker", "annotations"],
    )
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: no video in "), result.stderr
    line = lines[0]
    assert "<prompt_id>[_F<frames>]_seed<NN>.mp4" in line
    # the first three files seen, sorted, each with why it did not match; then how many more
    names = ["clip_01.mp4", "clip_02.mp4", "clip_03.mp4"]
    positions = [line.index(f"{name} (name is not") for name in names]
    assert positions == sorted(positions) and "notes.txt" not in line and "and 1 more" in line
    assert not (out / "samples").exists()
