"""Bad inputs become invalid samples with a clear reason, and the build goes on."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from _videos_helpers import TINY, prompt_records, write_prompts

from dsr.builders.folder import DatasetFolder
from dsr.builders.samples import build_sample
from dsr.builders.videos import VideoBuildConfig, build_videos
from dsr.generation.synthetic import SyntheticGenerator
from dsr.prompts import parse_prompt
from dsr.tracking.annotations import AnnotationTracker

RECORD = {**prompt_records(4)[3], "prompt_id": "p"}  # an LR prompt


def _zero_frame_mp4() -> bytes:
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as c:
        s = c.add_stream("libx264", rate=Fraction(8, 1))
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        c.start_encoding()
    return buf.getvalue()


@pytest.mark.parametrize(
    ("video", "reason", "words"),
    [
        (b"this is not an mp4 at all", "video_unreadable", "not readable"),
        (b"", "video_empty", "0 bytes"),
        ("__empty_file__", "video_empty", "empty"),
        ("__missing_file__", "video_unreadable", "does not exist"),
        ("__zero_frames__", "video_empty", "zero frames"),  # a track with no samples
        (None, "video_missing", "no video"),
    ],
)
def test_bad_video_is_an_invalid_sample(tmp_path: Path, video, reason: str, words: str) -> None:
    if video == "__empty_file__":
        video = tmp_path / "empty.mp4"
        video.write_bytes(b"")
    elif video == "__missing_file__":
        video = tmp_path / "missing.mp4"
    elif video == "__zero_frames__":
        video = _zero_frame_mp4()
    row = build_sample(RECORD, 0, video, AnnotationTracker())
    assert row["valid"] is False and row["reason"] == reason and words in row["reason_detail"]
    assert row["dsr_score"] is None and row["num_frames"] == 0 and row["video"] is None


def test_the_reason_follows_the_error_type_not_the_words_of_its_message(tmp_path: Path) -> None:
    # the message names the path, which holds the word "empty": still unreadable, not empty
    row = build_sample(RECORD, 0, tmp_path / "empty" / "missing.mp4", AnnotationTracker())
    assert (row["reason"], row["valid"]) == ("video_unreadable", False)


def test_truncated_video_file_is_invalid(tmp_path: Path) -> None:
    gen = SyntheticGenerator(**TINY)
    good = build_sample(
        RECORD, 0, gen.generate_one(parse_prompt(RECORD["prompt"]), 0), AnnotationTracker()
    )
    path = tmp_path / "cut.mp4"
    path.write_bytes(good["video"]["bytes"][:300])  # the header is cut: no stream can be opened
    row = build_sample(RECORD, 0, path, AnnotationTracker())
    assert (row["valid"], row["reason"]) == (False, "video_unreadable")


def test_readable_file_without_annotations_names_the_fix(tmp_path: Path) -> None:
    gen = SyntheticGenerator(**TINY)
    good = build_sample(
        RECORD, 0, gen.generate_one(parse_prompt(RECORD["prompt"]), 0), AnnotationTracker()
    )
    row = build_sample(RECORD, 0, good["video"]["bytes"], AnnotationTracker())
    assert row["reason"] == "no_annotations" and "detector tracker" in row["reason_detail"]
    assert row["num_frames"] == 32 and row["video"]["bytes"] == good["video"]["bytes"]


def test_unparsable_prompt_is_recorded_and_the_build_goes_on(tmp_path: Path) -> None:
    rows = prompt_records(2)
    rows[0] = {**rows[0], "prompt": "A fox is near a stump, and it stays there."}
    prompts = write_prompts(tmp_path / "prompts", rows)
    result = build_videos(
        VideoBuildConfig(
            prompts=str(prompts),
            out=str(tmp_path / "ds"),
            generator="synthetic",
            generator_options={**TINY, "scenario": "follow"},
            tracker="annotations",
            samples_per_prompt=2,
        )
    )
    assert result.built == 4 and result.merged is not None
    files = DatasetFolder(tmp_path / "ds").data_files("samples", "train")
    table = {r["sample_id"]: r for f in files for r in pq.read_table(f).to_pylist()}
    bad = table["train-000__seed00"]
    assert bad["reason"] == "prompt_unparsable" and "not a DSR prompt" in bad["reason_detail"]
    assert table["train-001__seed01"]["valid"] is True
    assert result.merged.validity["train"]["invalid_prompt_unparsable"] == 2


def test_missing_prompts_config_names_the_fix(tmp_path: Path) -> None:
    from dsr.errors import DataError

    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="build-prompts"):
        build_videos(
            VideoBuildConfig(
                prompts=str(tmp_path / "empty"),
                out=str(tmp_path / "ds"),
                generator="synthetic",
                tracker="annotations",
            )
        )


@pytest.mark.parametrize(
    ("component", "options"),
    [
        (
            "generator",
            {
                "generator": "wan",
                "generator_options": {"model": "__missing__"},
                "tracker": "annotations",
            },
        ),
        (
            "tracker",
            {
                "generator": "synthetic",
                "generator_options": TINY,
                "tracker": "grounded-sam2",
                "tracker_options": {"detector": "__missing__"},
            },
        ),
    ],
)
def test_a_checkpoint_that_cannot_load_stops_the_build_and_marks_nothing_finished(
    tmp_path: Path, component: str, options: dict
) -> None:
    """A wrong model path is a setup error: recording every sample as failed would make a re-run
    with the right path skip them all."""
    from dsr.errors import ModelLoadError

    prompts = write_prompts(tmp_path / "prompts", prompt_records(2))
    missing = str(tmp_path / "no-such-checkpoint")
    opts = {
        k: (
            {kk: (missing if vv == "__missing__" else vv) for kk, vv in v.items()}
            if isinstance(v, dict)
            else v
        )
        for k, v in options.items()
    }
    config = VideoBuildConfig(
        prompts=str(prompts), out=str(tmp_path / "ds"), samples_per_prompt=2, **opts
    )
    option = "--generator-opt model=PATH" if component == "generator" else "--detector"
    with pytest.raises(ModelLoadError, match=f"no-such-checkpoint.*{option}"):
        build_videos(config)
    assert not list((tmp_path / "ds").rglob("*__seed*.json"))


class FlatBoxes:
    """A tracker whose animal box collapses to zero width in the last 20 of 32 frames."""

    name = "flat"

    def settings(self) -> dict:
        return {}

    def track(self, frames, prompt, annotations=None):
        import numpy as np

        from dsr.scoring import FrameClass, decide_validity
        from dsr.tracking.base import TrackResult

        animal = np.array([[0, 0, 10, 10]] * 12 + [[4, 0, 4, 10]] * 20, dtype=float)
        obj = np.array([[20, 0, 30, 10]] * 32, dtype=float)
        return TrackResult(animal, obj, decide_validity([FrameClass.VALID] * 32))


def test_degenerate_tracker_boxes_are_counted_in_the_sample_row() -> None:
    video = SyntheticGenerator(**TINY).generate(parse_prompt(RECORD["prompt"]), [0])[0]
    row = build_sample(RECORD, 0, video, FlatBoxes())
    assert (row["reason"], row["n_usable_frames"], row["n_degenerate_frames"]) == (
        "too_few_frames",
        12,
        20,
    )
    assert "20 frames had a box with zero or negative width or height" in row["reason_detail"]


def test_degenerate_boxes_are_counted_in_the_build_summary(tmp_path: Path) -> None:
    prompts = write_prompts(tmp_path / "ds", prompt_records(1))
    config = VideoBuildConfig(
        prompts=str(prompts),
        out=str(prompts),
        generator="synthetic",
        generator_options=TINY,
        tracker="annotations",
        seeds=(0, 1),
    )
    result = build_videos(config, tracker=FlatBoxes())
    assert result.merged is not None
    assert (
        result.merged.validity["train"]["frames_with_degenerate_boxes"] == 40
    )  # 20 in each of 2 samples
