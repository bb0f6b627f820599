"""ID consistency (DINOv2) and CLIP-IQA against straightforward per-crop / per-frame reference
loops written here, on tiny random models loaded through ``from_pretrained``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _eval_helpers import moving_video

from dsr.evaluation.frames import animal_crops, id_consistency
from dsr.evaluation.models import ClipIQA, IdEmbedder

CROP = 42  # a multiple of the patch size 14: fast on the CPU, the same code as 518


def _reference_features(
    model_dir: Path, frames: np.ndarray, animal: np.ndarray, obj: np.ndarray
) -> list[np.ndarray]:
    """One DINOv2 call per usable frame: PIL-style crop, torchvision
    resize/center-crop, ImageNet norm."""
    import torch
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as F
    from transformers import AutoModel

    model = AutoModel.from_pretrained(model_dir).eval()
    feats = []
    for t in range(len(frames)):
        a, o = animal[t], obj[t]
        if not (
            np.isfinite(a).all()
            and np.isfinite(o).all()
            and a[2] > a[0]
            and a[3] > a[1]
            and o[2] > o[0]
            and o[3] > o[1]
        ):
            continue
        x1, y1, x2, y2 = (int(round(float(c))) for c in a)
        crop = torch.tensor(frames[t, y1:y2, x1:x2]).permute(2, 0, 1).float()
        crop = (
            F.resize(crop, CROP, interpolation=InterpolationMode.BICUBIC, antialias=True)
            .clamp(0, 255)
            .round()
        )
        crop = F.center_crop(crop, [CROP, CROP]) / 255.0
        crop = F.normalize(crop, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        with torch.no_grad():
            cls = model(pixel_values=crop[None]).last_hidden_state[
                0, 0
            ]  # the CLS token after the final norm
        feats.append((cls / cls.norm()).double().numpy())
    return feats


def _reference_id(feats: list[np.ndarray]) -> float:
    terms = [(feats[k] @ feats[0] + feats[k] @ feats[k - 1]) / 2 for k in range(1, len(feats))]
    return float(sum(terms) / len(terms))


def test_time_order_id_consistency_matches_a_per_crop_loop(
    tiny_eval_models: dict[str, Path],
) -> None:
    frames, animal, obj = moving_video()
    animal[3] = np.nan  # an absent animal: frame 3 is not usable
    obj[5] = [20.0, 30.0, 20.0, 46.0]  # a zero-width object box: frame 5 is not usable
    embedder = IdEmbedder(
        str(tiny_eval_models["dino"]), crop_size=CROP, batch_size=4, round_to_8bit=True
    )
    feats = embedder.embed(animal_crops(frames, animal, obj))
    reference = _reference_features(tiny_eval_models["dino"], frames, animal, obj)
    assert feats.shape[0] == len(reference) == len(frames) - 2
    np.testing.assert_allclose(feats, np.stack(reference), atol=1e-5)
    assert id_consistency(feats) == pytest.approx(_reference_id(reference), abs=1e-5)


def test_an_unchanging_animal_crop_scores_exactly_one(tiny_eval_models: dict[str, Path]) -> None:
    frames, animal, obj = moving_video()
    frames[:] = frames[0]
    animal[:] = animal[0]
    embedder = IdEmbedder(str(tiny_eval_models["dino"]), crop_size=CROP, batch_size=5)
    assert id_consistency(embedder.embed(animal_crops(frames, animal, obj))) == pytest.approx(
        1.0, abs=1e-6
    )


def test_id_consistency_needs_two_crops() -> None:
    assert id_consistency(np.ones((1, 8)) / np.sqrt(8)) is None


def _reference_clip_iqa(model_dir: Path, frames: np.ndarray) -> np.ndarray:
    """torchmetrics' formula one frame at a time: softmax(100 · cos(image,
    [positive, negative]))[0]."""
    import torch
    from transformers import CLIPModel, CLIPProcessor

    model, processor = (
        CLIPModel.from_pretrained(model_dir).eval(),
        CLIPProcessor.from_pretrained(model_dir),
    )
    pairs = [("Natural photo.", "Synthetic photo."), ("Good photo.", "Bad photo.")]
    out = np.zeros((len(frames), len(pairs)))
    with torch.no_grad():
        for i, frame in enumerate(frames):
            pixels = processor(images=frame, return_tensors="pt")["pixel_values"]
            image = model.get_image_features(pixel_values=pixels).pooler_output[0]
            image = image / image.norm()
            for j, pair in enumerate(pairs):
                sims = []
                for text in pair:
                    tokens = processor.tokenizer([text], return_tensors="pt")
                    feat = model.get_text_features(**tokens).pooler_output[0]
                    sims.append(float(image @ (feat / feat.norm())))
                logits = 100 * np.array(sims)
                out[i, j] = np.exp(logits[0]) / np.exp(logits).sum()
    return out


def test_clip_iqa_matches_a_per_frame_loop(tiny_eval_models: dict[str, Path]) -> None:
    frames, _, _ = moving_video(n_frames=7)
    iqa = ClipIQA(str(tiny_eval_models["clip"]), anchors=("natural", "quality"), batch_size=3)
    scores = iqa.scores(frames)
    assert scores.shape == (7, 2) and ((scores > 0.01) & (scores < 0.99)).all()  # not saturated
    np.testing.assert_allclose(
        scores, _reference_clip_iqa(tiny_eval_models["clip"], frames), atol=1e-5
    )
    assert np.ptp(scores[:, 0]) > 1e-4  # frames differ, so do their scores: the test can fail


def test_unknown_anchor_is_refused() -> None:
    from dsr.errors import ConfigError

    with pytest.raises(ConfigError, match="choose from natural, quality"):
        ClipIQA(anchors=("sharpness",))
