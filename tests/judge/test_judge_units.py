"""The judge's pure parts: the questions word for word, strict answer parsing, uniform frame
indices, Cohen's κ, image-token and cost estimates, and option checks."""

from __future__ import annotations

import pytest

from dsr.errors import ConfigError, DataError
from dsr.judge.analysis import agreement, cohen_kappa
from dsr.judge.config import JudgeOptions
from dsr.judge.cost import PRICES, image_tokens, known_price
from dsr.judge.frames import frame_indices
from dsr.judge.questions import parse_answer, questions_for


def test_the_two_questions_are_the_papers_with_the_prompts_fields() -> None:
    row = {
        "sample_id": "s",
        "animal": "red fox",
        "object": "wooden crate",
        "initial": "left",
        "final": "top",
    }
    initial, final = questions_for(row)
    assert (
        initial.text
        == "Is the red fox initially on the left of the wooden crate? Answer yes or no."
    )
    assert final.text == "Is the red fox finally on the top of the wooden crate? Answer yes or no."
    assert (initial.kind, initial.relation, final.kind, final.relation) == (
        "initial",
        "left",
        "final",
        "top",
    )
    with pytest.raises(DataError, match="no animal or object"):
        questions_for({**row, "animal": " "})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes", "yes"),
        ("yes.", "yes"),
        ("  NO ", "no"),
        ("**Yes**", "yes"),
        ("'No.'", "no"),
        ("No, the fox is on the right of the crate.", "no"),
        ("Yes! It starts on the left.", "yes"),
        ("<think>The fox is left... so no? Actually yes.</think>Yes", "yes"),
        ("Yes and no.", "unparsable"),
        ("Yes, although at first no.", "unparsable"),
        ("Answer: yes", "unparsable"),
        ("I think so", "unparsable"),
        ("Nope", "unparsable"),
        ("Not really", "unparsable"),
        ("Yesterday", "unparsable"),
        ("", "unparsable"),
        (None, "unparsable"),
    ],
)
def test_answers_are_parsed_strictly(text: str | None, expected: str) -> None:
    assert parse_answer(text) == expected


def test_frames_are_sampled_uniformly_with_first_and_last() -> None:
    # linspace(0, 80, 8) = 0, 11.43, 22.86, 34.29, 45.71, 57.14, 68.57, 80, rounded
    assert frame_indices(81, 8) == [0, 11, 23, 34, 46, 57, 69, 80]
    assert frame_indices(24, 8) == [0, 3, 7, 10, 13, 16, 20, 23]  # 0, 3.29, 6.57, ... 23
    assert frame_indices(3, 8) == [0, 1, 2]  # fewer frames than asked: each once
    assert frame_indices(5, 2) == [0, 4] and frame_indices(1, 8) == [0]


def test_cohen_kappa_of_a_textbook_table() -> None:
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15: p_o = 0.7, p_e = 0.5 -> 0.4
    assert cohen_kappa(20, 5, 10, 15) == pytest.approx(0.4)
    assert cohen_kappa(10, 0, 0, 10) == pytest.approx(1.0)
    assert cohen_kappa(5, 0, 0, 0) is None  # every rating the same: chance agreement is 1
    a = agreement([True, True, False, False, True], [True, False, False, True, True], 0.7)
    assert (a.tp, a.fp, a.fn, a.tn) == (2, 1, 1, 1)
    assert (a.accuracy, a.precision, a.recall) == pytest.approx((3 / 5, 2 / 3, 2 / 3))


def test_image_tokens_follow_openais_tile_rule() -> None:
    gpt4o = PRICES["gpt-4o"]
    assert image_tokens(1024, 1024, gpt4o) == 765  # OpenAI's worked example: 768 x 768, 4 tiles
    assert image_tokens(2048, 4096, gpt4o) == 1105  # 1024 x 2048 -> 768 x 1536, 6 tiles
    assert image_tokens(832, 480, gpt4o) == 85 + 2 * 170  # the paper's frames: 2 tiles
    assert image_tokens(832, 480, gpt4o, "low") == 85
    assert image_tokens(832, 480, PRICES["gpt-4o-mini"]) == 2833 + 2 * 5667
    assert image_tokens(832, 480, None) == 26 * 15  # other models: one token per 32 x 32 pixels
    assert known_price("gpt-4o-2024-08-06") is gpt4o
    assert known_price("gpt-4o-mini-2024-07-18") is PRICES["gpt-4o-mini"]
    assert (
        known_price("Qwen/Qwen3-VL-8B-Instruct") is None
        and known_price("gpt-4o-audio-preview") is None
    )


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"model": None}, "--model is required"),
        ({"frames": 1}, "frames=1: at least 2"),
        ({"concurrency": 0}, "concurrency=0"),
        ({"base_url": "localhost:8000"}, "expected an http.s. URL"),
        ({"tau": 1.5}, "tau=1.5"),
        ({"detail": "ultra"}, "detail='ultra'"),
        ({"limit": 0}, "limit=0"),
    ],
)
def test_bad_options_are_one_clear_error(options: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        JudgeOptions(**{"model": "gpt-4o", **options})  # type: ignore[arg-type]


def test_the_sampled_frames_are_the_videos_frames_at_those_indices() -> None:
    import numpy as np

    from dsr.judge.frames import sample_frames
    from dsr.media import encode_video

    grey = np.stack(
        [np.full((32, 48, 3), 20 * t, dtype=np.uint8) for t in range(10)]
    )  # frame t is grey 20·t
    frames, indices = sample_frames(encode_video(grey, fps=8), 4)
    assert indices == [0, 3, 6, 9]  # 9 · i / 3
    assert [round(float(f.mean()) / 20) for f in frames] == [0, 3, 6, 9]
