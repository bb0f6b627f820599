"""Imaging quality (VBench: MUSIQ trained on SPAQ) against VBench's per-frame loop, with a random
MUSIQ checkpoint of the real architecture written to a file and loaded through ``--iq-weights``.
Needs the optional ``quality`` extra (pyiqa); skipped without it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dsr.errors import ConfigError
from dsr.evaluation.config import EvalConfig


@pytest.fixture(scope="module")
def musiq_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("pyiqa")
    import torch
    from pyiqa.archs.musiq_arch import MUSIQ

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("musiq") / "musiq_random.pth"
    torch.save(MUSIQ(pretrained=False).state_dict(), path)
    return path


def _vbench_loop(weights: Path, video: np.ndarray) -> float:
    """VBench's imaging_quality ('longer' mode): resize if the longer side > 512, /255, one
    frame at a time."""
    import torch
    from pyiqa.archs.musiq_arch import MUSIQ
    from torchvision import transforms

    model = MUSIQ(pretrained_model_path=str(weights)).eval()
    images = torch.from_numpy(video).permute(0, 3, 1, 2)
    _, _, h, w = images.size()
    if max(h, w) > 512:
        scale = 512.0 / max(h, w)
        images = transforms.Resize(size=(int(scale * h), int(scale * w)), antialias=False)(images)
    images = images / 255.0
    with torch.no_grad():
        return (
            sum(float(model(images[i].unsqueeze(0))) for i in range(len(images)))
            / len(images)
            / 100.0
        )


@pytest.mark.slow  # a real-size MUSIQ (27 M parameters) on the CPU
def test_imaging_quality_matches_vbench_loop(musiq_weights: Path) -> None:
    from dsr.evaluation.imaging_quality import ImagingQualityMetric

    rng = np.random.default_rng(0)
    video = rng.integers(
        0, 256, size=(3, 48, 600, 3), dtype=np.uint8
    )  # the longer side is resized to 512
    config = EvalConfig(
        dataset="-", out="-", metrics=("iq",), iq_weights=str(musiq_weights), batch_size=2
    )
    got = ImagingQualityMetric(config, "cpu").values([{}], [video])[0]["imaging_quality"]
    assert got == pytest.approx(_vbench_loop(musiq_weights, video), abs=1e-5)


def test_imaging_quality_needs_its_weights_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs --iq-weights"):
        EvalConfig(dataset="-", out="-", metrics=("iq",))
    with pytest.raises(ConfigError, match="no such file"):
        EvalConfig(dataset="-", out="-", metrics=("iq",), iq_weights=str(tmp_path / "missing.pth"))
