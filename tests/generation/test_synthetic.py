"""The synthetic world: deterministic per seed, ground truth consistent with the pixels."""

from __future__ import annotations

import numpy as np
import pytest

from dsr.errors import ConfigError
from dsr.generation.synthetic import SCENARIOS, SyntheticConfig, SyntheticGenerator
from dsr.prompts import parse_prompt

PROMPT = parse_prompt(
    "In a barn, a cat is on the top of a crate, then the cat jumps to the right of the crate."
)
TINY = {"num_frames": 32, "height": 64, "width": 96}


def test_same_seed_same_video_and_seeds_differ() -> None:
    gen = SyntheticGenerator(**TINY)
    a, b = gen.generate(PROMPT, [5, 5])
    (c,) = gen.generate(PROMPT, [6])
    assert np.array_equal(a.frames, b.frames) and a.frames.dtype == np.uint8
    assert not np.array_equal(a.frames, c.frames)
    assert (
        a.annotations is not None
        and a.settings["scenario"] == a.annotations.scenario
        and a.seed == 5
    )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_annotations_match_the_drawn_sprites(scenario: str) -> None:
    video = SyntheticGenerator(**TINY, scenario=scenario).generate_one(PROMPT, 0)
    ann = video.annotations
    assert ann is not None and ann.scenario == scenario and len(ann.detections) == 32
    for t, boxes in enumerate(ann.detections):
        labels = [label for label, _ in boxes]
        assert labels.count("crate") == (0 if scenario == "object_missing" else 1)
        if not np.isnan(ann.animal_boxes[t]).any():
            x1, y1, x2, y2 = ann.animal_boxes[t].round().astype(int)
            patch = video.frames[t, y1 : y2 + 1, x1 : x2 + 1]
            assert patch.size and (patch != video.frames[t, 0, 0]).any()


def test_default_weights_cover_every_scenario() -> None:
    gen = SyntheticGenerator(**TINY)
    drawn = {gen.scenario_for(PROMPT, s) for s in range(300)}
    assert drawn == set(SCENARIOS)


def test_config_errors_name_the_fix() -> None:
    with pytest.raises(ConfigError, match="choose from"):
        SyntheticConfig(scenario="dance")
    with pytest.raises(ConfigError, match="num_frames"):
        SyntheticConfig(num_frames=1)
