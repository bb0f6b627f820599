"""Tiny random tracking models, built once per test session and saved to a temporary directory;
the trackers load them back through their production ``from_pretrained`` path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dsr.prompts import DSRPrompt
from dsr.scoring import ValidityConfig


@pytest.fixture(scope="session")
def tiny_grounding_dino(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dsr.tracking.tiny import save_tiny_grounding_dino

    return save_tiny_grounding_dino(tmp_path_factory.mktemp("models") / "grounding-dino")


#: Where the scripted Grounding DINO puts its two detections (xyxy fractions of the frame).
SCRIPTED_BOXES = {"fox": (0.1, 0.2, 0.4, 0.6), "stump": (0.55, 0.5, 0.9, 0.85)}


@pytest.fixture(scope="session")
def scripted_grounding_dino(tmp_path_factory: pytest.TempPathFactory):
    """Factory: a tiny Grounding DINO that, for ``text``, detects "fox" and "stump" at
    ``SCRIPTED_BOXES`` on every frame and nothing else (built once per text)."""
    from dsr.tracking.tiny import save_tiny_grounding_dino

    built: dict[str, Path] = {}

    def make(text: str = "fox. stump.") -> Path:
        if text not in built:
            path = tmp_path_factory.mktemp("models") / "grounding-dino-scripted"
            built[text] = save_tiny_grounding_dino(path, script=(text, SCRIPTED_BOXES))
        return built[text]

    return make


@pytest.fixture(scope="session")
def scripted_boxes() -> dict[str, tuple[float, float, float, float]]:
    return SCRIPTED_BOXES


@pytest.fixture(scope="session")
def tiny_sam2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dsr.tracking.tiny import save_tiny_sam2_video

    return save_tiny_sam2_video(tmp_path_factory.mktemp("models") / "sam2-video")


@pytest.fixture(scope="session")
def tiny_sam3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dsr.tracking.tiny import save_tiny_sam3_video

    return save_tiny_sam3_video(tmp_path_factory.mktemp("models") / "sam3-video")


@pytest.fixture
def prompt() -> DSRPrompt:
    return DSRPrompt(
        scene="", animal="cat", object="bench", initial="left", final="right", verb="walks"
    )


@pytest.fixture
def short_validity() -> ValidityConfig:
    """The paper's rules scaled to 10-frame clips."""
    return ValidityConfig(max_redundant=2, min_valid=4, min_run=4)


def _moving_squares(n: int = 10, size: int = 64) -> np.ndarray:
    frames = np.full((n, size, size, 3), 40, dtype=np.uint8)
    frames[:, 40:48, 24:40] = (90, 60, 30)
    for t in range(n):
        x = 4 + t * (size - 16) // max(n - 1, 1)
        frames[t, 20:32, x : x + 10] = (240, 240, 240)
    return frames


@pytest.fixture
def moving_squares():
    """Factory: a bright square walking left to right past a dark bar, uint8 (n, size, size, 3)."""
    return _moving_squares
