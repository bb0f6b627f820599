"""The evaluation numbers as the authors' ``calc_metric.py`` / ``calc_correctness.py`` compute them:
ID consistency in the tracker's order with their ``break`` and 20-crop rule on float pixels,
CLIP-IQA with torchmetrics' default model (piq's CLIP ResNet-50) on whole frames, and their τ.
Random-weight models go through the production loading code; each expectation is their arithmetic
written out here (and, where torchmetrics is installed, torchmetrics' and piq's own classes on the
same weights)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dsr.errors import ConfigError, ModelLoadError
from dsr.evaluation.config import EvalConfig
from dsr.evaluation.frames import authors_crop_frames, tracker_order

CROP = 28  # a multiple of DINOv2's patch 14: fast on the CPU, the same code as 518
DINOV2_MEAN, DINOV2_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
# "Natural photo.", "Synthetic photo.", "Good photo.", "Bad photo." in CLIP's BPE (start 49406,
# end 49407), as CLIPTokenizer of openai/clip-vit-base-patch16 gives them
TOKENS = [
    [49406, 3288, 1125, 269, 49407],
    [49406, 19917, 1125, 269, 49407],
    [49406, 886, 1125, 269, 49407],
    [49406, 2103, 1125, 269, 49407],
]


def test_tracker_order_starts_at_the_key_frame_then_goes_back() -> None:
    assert tracker_order(6, 2) == [2, 3, 4, 5, 1, 0]
    assert tracker_order(3, 0) == [0, 1, 2]
    assert tracker_order(3, 5) == []  # a key frame outside the video


def _boxes(n: int) -> tuple[np.ndarray, np.ndarray]:
    animal = np.tile([10.0, 10.0, 30.0, 25.0], (n, 1))
    obj = np.tile([40.0, 12.0, 60.0, 40.0], (n, 1))
    return animal, obj


def test_the_loop_stops_at_the_first_box_without_extent() -> None:
    animal, obj = _boxes(8)
    assert authors_crop_frames(animal, obj, 3) == [3, 4, 5, 6, 7, 2, 1, 0]
    a, o = animal.copy(), obj.copy()
    a[6] = np.nan  # an empty mask (theirs: box [0, 0, 0, 0], zero width)
    assert authors_crop_frames(a, o, 3) == [3, 4, 5]  # frames 7, 2, 1, 0 are dropped too
    a, o = animal.copy(), obj.copy()
    o[1] = [40.0, 12.0, 40.0, 40.0]  # an object one pixel wide: x2 == x1
    assert authors_crop_frames(a, o, 3) == [3, 4, 5, 6, 7, 2]
    a, o = animal.copy(), obj.copy()
    o[5] = [40.0, 12.0, 60.0, 12.0]  # a flat object beside an animal with height: theirs goes on
    assert authors_crop_frames(a, o, 3) == [3, 4, 5, 6, 7, 2, 1, 0]
    a[0] = [10.0, 10.0, 30.0, 10.0]  # a flat animal (their script fails on its empty crop)
    assert authors_crop_frames(a, o, 3) == [3, 4, 5, 6, 7, 2, 1]
    assert authors_crop_frames(a, o, None) == []


# ---- ID consistency -------------------------------------------------------------------------


def _video(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noise frames (uint8, 40×56) with a drifting animal box whose content changes from frame to
    frame (so the features, and the order they come in, matter); integer mask-like boxes."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, size=(n, 40, 56, 3), dtype=np.uint8)
    animal, obj = [], []
    for t in range(n):
        x = 2 + t
        animal.append([x, 5, x + 8, 17])  # inclusive extent, as from a mask
        obj.append([30, 20, 50, 38])
    return frames, np.array(animal, dtype=float), np.array(obj, dtype=float)


def _authors_id(dino_dir: Path, frames: np.ndarray, animal: np.ndarray, obj: np.ndarray, key: int):  # type: ignore[no-untyped-def]
    """calc_metric.py's loop: the tracker's det list, their break, their transforms, one DINOv2
    call on the stacked crops, their similarity sums; None below 20 crops."""
    import torch
    import torchvision.transforms as Tran
    from transformers import AutoModel

    model = AutoModel.from_pretrained(dino_dir).eval()
    transform = Tran.Compose(
        [
            Tran.Resize(CROP, interpolation=Tran.InterpolationMode.BICUBIC, antialias=True),
            Tran.CenterCrop(CROP),
            Tran.Normalize(mean=DINOV2_MEAN, std=DINOV2_STD),
        ]
    )
    video = [f for f in torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0]
    n = len(frames)
    det = {}  # their det_data: forward from the key, then backward (key overwritten in place)
    for f_idx in [*range(key, n), *range(key, -1, -1)]:
        box = [[0, 0, 0, 0] if np.isnan(b).any() else b for b in (animal[f_idx], obj[f_idx])]
        det[f_idx] = np.array(box).astype(int)
    batch = []
    for f_idx, bbox in det.items():
        (a_l, a_t, a_r, a_b), (s_l, s_t, s_r, s_b) = bbox
        if (a_r - a_l) == 0 or (s_r - s_l) == 0 or 0.5 * ((a_b - a_t) + (s_b - s_t)) == 0:
            break
        batch.append(transform(video[f_idx][:, a_t:a_b, a_l:a_r]))
    if len(batch) < 20:
        return None, len(batch)
    with torch.no_grad():
        feat = model(pixel_values=torch.stack(batch)).last_hidden_state[:, 0]
        feat = torch.nn.functional.normalize(feat, dim=1)
    to_ref = (feat[1:] @ feat[0:1].T).squeeze(1)
    to_pre = (feat[:-1] * feat[1:]).sum(dim=1)
    return float(((to_ref + to_pre) / 2).mean()), len(batch)


def _id_metric(models: dict[str, Path], **kw: Any):  # type: ignore[no-untyped-def]
    from dsr.evaluation.video_metrics import IdConsistencyMetric

    config = EvalConfig(
        dataset="x",
        out="y",
        metrics=("dsr", "id"),
        dino=str(models["dino"]),
        id_crop_size=CROP,
        batch_size=7,
        **kw,
    )
    return IdConsistencyMetric(config, "cpu")


def test_authors_id_consistency_is_their_loop(tiny_eval_models: dict[str, Path]) -> None:
    frames, animal, obj = _video(26)
    animal[2] = np.nan  # lost in the backward pass: frames 2, 1, 0 never count
    short_a = animal.copy()
    short_a[12] = np.nan  # lost early in the forward pass: 7 crops, fewer than 20
    rows = [
        {
            "sample_id": "a",
            "valid": True,
            "key_frame": 5,
            "animal_boxes": animal,
            "object_boxes": obj,
        },
        {
            "sample_id": "b",
            "valid": True,
            "key_frame": 5,
            "animal_boxes": short_a,
            "object_boxes": obj,
        },
    ]
    values = _id_metric(tiny_eval_models).values(rows, [frames, frames])
    expected, n_crops = _authors_id(tiny_eval_models["dino"], frames, animal, obj, 5)
    assert n_crops == 21 + 2 and expected is not None
    assert values[0]["id_consistency"] == pytest.approx(expected, abs=1e-5)
    assert _authors_id(tiny_eval_models["dino"], frames, short_a, obj, 5)[0] is None
    assert values[1]["id_consistency"] is None
    # the order matters: the time-order variant of the same video gives another number
    time_order = _id_metric(tiny_eval_models, id_variant="time-order").values(rows[:1], [frames])
    assert abs(time_order[0]["id_consistency"] - expected) > 1e-4


def test_authors_crops_are_float_pixels_without_clamping(tiny_eval_models: dict[str, Path]) -> None:
    import torch
    import torchvision.transforms as Tran

    from dsr.evaluation.models import IdEmbedder

    rng = np.random.default_rng(3)
    crop = rng.choice([0, 255], size=(11, 17, 3)).astype(np.uint8)  # hard edges: bicubic overshoots
    theirs = Tran.Compose(
        [
            Tran.Resize(CROP, interpolation=Tran.InterpolationMode.BICUBIC, antialias=True),
            Tran.CenterCrop(CROP),
            Tran.Normalize(mean=DINOV2_MEAN, std=DINOV2_STD),
        ]
    )(torch.from_numpy(crop).permute(2, 0, 1).float() / 255.0)
    ours = IdEmbedder(str(tiny_eval_models["dino"]), crop_size=CROP).preprocess(crop)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-6)
    lowest = (0.0 - np.array(DINOV2_MEAN)) / np.array(DINOV2_STD)
    assert (ours.numpy().min(axis=(1, 2)) < lowest - 0.01).any()  # below pixel 0: not clamped
    rounded = IdEmbedder(str(tiny_eval_models["dino"]), crop_size=CROP, round_to_8bit=True)
    assert (rounded.preprocess(crop).numpy().min(axis=(1, 2)) >= lowest - 1e-6).all()


def test_a_row_without_key_frame_column_names_the_fix(tiny_eval_models: dict[str, Path]) -> None:
    from dsr.errors import DataError

    frames, animal, obj = _video(3)
    row = {"sample_id": "old", "valid": True, "animal_boxes": animal, "object_boxes": obj}
    with pytest.raises(DataError, match="--id-variant time-order"):
        _id_metric(tiny_eval_models).values([row], [frames])


# ---- CLIP-IQA -------------------------------------------------------------------------------


def _their_model(path: Path):  # type: ignore[no-untyped-def]
    """The model as piq's clip.load() makes it from the file."""
    import torch
    from piq.feature_extractors import clip

    return clip.build_model(torch.jit.load(str(path), map_location="cpu").state_dict()).float()


@pytest.fixture(scope="module")
def their_clip(tiny_eval_models: dict[str, Path]):  # type: ignore[no-untyped-def]
    return _their_model(tiny_eval_models["piq_clip"])


def _their_clip_iqa(model: Any, frames: np.ndarray) -> np.ndarray:
    """torchmetrics' clip_iqa path written out: frames / 255 / data_range 1.0, CLIP mean/std, image
    features without positional embedding, anchors from zero-padded tokens, softmax of 100 · cos."""
    import torch

    tokens = torch.zeros(4, 77, dtype=torch.long)
    for i, ids in enumerate(TOKENS):
        tokens[i, : len(ids)] = torch.tensor(ids)
    with torch.no_grad():
        anchors = model.encode_text(tokens).float()
        anchors = anchors / anchors.norm(p=2, dim=-1, keepdim=True)
        x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0 / 1.0
        x = (x - torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)) / torch.tensor(CLIP_STD).view(1, 3, 1, 1)
        feats = model.encode_image(x.float(), pos_embedding=False).float()
        feats = feats / feats.norm(p=2, dim=-1, keepdim=True)
        logits = 100 * feats @ anchors.t()
        return logits.reshape(len(frames), -1, 2).softmax(-1)[:, :, 0].double().numpy()


def _clip_metric(models: dict[str, Path], **kw: Any):  # type: ignore[no-untyped-def]
    from dsr.evaluation.video_metrics import ClipIQAMetric

    config = EvalConfig(
        dataset="x",
        out="y",
        metrics=("dsr", "clip_iqa"),
        clip=str(models["clip"]),
        clip_iqa_weights=str(models["piq_clip"]),
        batch_size=5,
        **kw,
    )
    return ClipIQAMetric(config, "cpu")


def test_authors_clip_iqa_is_torchmetrics_default_model_on_whole_frames(
    tiny_eval_models: dict[str, Path], their_clip: Any
) -> None:
    rng = np.random.default_rng(0)
    videos = [rng.integers(0, 256, size=(6, 48, 80, 3), dtype=np.uint8) for _ in range(2)]
    videos.append(rng.integers(0, 256, size=(3, 40, 72, 3), dtype=np.uint8))  # another size
    metric = _clip_metric(tiny_eval_models)
    values = metric.values([{}] * 3, videos)
    for v, video in zip(values, videos, strict=True):
        theirs = _their_clip_iqa(their_clip, video)
        assert v["clip_iqa_natural"] == pytest.approx(theirs[:, 0].mean(), abs=1e-6)
        assert v["clip_iqa_quality"] == pytest.approx(theirs[:, 1].mean(), abs=1e-6)
    frames = _their_clip_iqa(their_clip, videos[0])
    assert np.ptp(frames[:, 0]) > 1e-5 and frames.min() > 0.01 and frames.max() < 0.99
    assert metric.settings()["variant"] == "authors"
    assert "sha256:" in metric.settings()["weights"]


def test_the_whole_frame_is_seen_not_a_center_crop(tiny_eval_models: dict[str, Path]) -> None:
    from dsr.evaluation.clip_iqa import PiqClipIQA

    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, size=(1, 48, 96, 3), dtype=np.uint8)
    edited = frame.copy()
    edited[:, :, :16] = 0  # only the left edge changes, outside any centered square
    iqa = PiqClipIQA(str(tiny_eval_models["piq_clip"]))
    assert np.abs(iqa.scores(frame) - iqa.scores(edited)).max() > 1e-6


def test_torchmetrics_and_piq_give_the_same_scores(
    tiny_eval_models: dict[str, Path], their_clip: Any
) -> None:
    """torchmetrics' CLIPImageQualityAssessment and piq's CLIPIQA themselves, on the same random
    weights (their downloads replaced by the file and the token ids)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchmetrics")
    import piq.clip_iqa
    import torchmetrics.multimodal.clip_iqa as tm_clip_iqa

    from dsr.evaluation.clip_iqa import PiqClipIQA

    class Tokenizer:
        model_max_length = 77

    class Processor:  # what torchmetrics asks of CLIPProcessor for the clip_iqa model
        tokenizer = Tokenizer()

        def __call__(self, text: list[str]) -> dict[str, list[list[int]]]:
            ids = dict(
                zip(
                    ["Natural photo.", "Synthetic photo.", "Good photo.", "Bad photo."],
                    TOKENS,
                    strict=True,
                )
            )
            return {"input_ids": [ids[t] for t in text]}

    path = tiny_eval_models["piq_clip"]
    frames = np.random.default_rng(2).integers(0, 256, size=(5, 48, 80, 3), dtype=np.uint8)
    ours = PiqClipIQA(str(path)).scores(frames)
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(
            tm_clip_iqa,
            "_get_clip_iqa_model_and_processor",
            lambda name: (their_clip, Processor()),
        )
        metric = tm_clip_iqa.CLIPImageQualityAssessment(
            data_range=1.0, prompts=("natural", "quality")
        )
        x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0  # as calc_metric.py
        theirs = metric(x)
        mp.setattr(piq.clip_iqa.clip, "load", lambda: their_clip)
        mp.setattr(
            piq.clip_iqa,
            "download_tensor",
            lambda url, root: torch.tensor([t + [0] * 72 for t in TOKENS[2:]]),
        )
        piq_quality = piq.clip_iqa.CLIPIQA(data_range=1.0)(x)
    finally:
        mp.undo()
    np.testing.assert_allclose(ours[:, 0], theirs["natural"].numpy(), atol=1e-6)
    np.testing.assert_allclose(ours[:, 1], theirs["quality"].numpy(), atol=1e-6)
    np.testing.assert_allclose(ours[:, 1], piq_quality.numpy().ravel(), atol=1e-5)


def test_anchor_tokens_are_clips_bpe() -> None:
    """The written-out token ids against a CLIP tokenizer, where one is installed."""
    open_clip = pytest.importorskip("open_clip")
    from dsr.evaluation.clip_iqa import ANCHOR_TOKENS

    for text, ids in ANCHOR_TOKENS.items():
        tokens = open_clip.tokenize([text])[0].tolist()
        assert tuple(tokens[: len(ids)]) == ids and not any(tokens[len(ids) :])


def test_a_file_that_is_no_clip_is_one_clear_error(tmp_path: Path) -> None:
    from dsr.evaluation.clip_iqa import PiqClipIQA

    bad = tmp_path / "RN50.pt"
    bad.write_bytes(b"not weights")
    with pytest.raises(ModelLoadError, match="--clip-iqa-weights"):
        PiqClipIQA(str(bad)).scores(np.zeros((1, 32, 32, 3), dtype=np.uint8))


# ---- τ, --paper-exact, variants ---------------------------------------------------------------


def test_authors_tau_is_np_arange_and_drops_an_exact_0_7() -> None:
    from dsr.evaluation.dsr_metrics import SampleOutcome, dsr_metrics

    scores = [0.7, 0.7 + 1e-15, 0.3, 0.6, 0.95, None]
    samples = [SampleOutcome("p", i, "LR", s is not None, s) for i, s in enumerate(scores)]
    taus = np.arange(0, 1, 0.1)  # calc_correctness.py
    value = np.array([-1.0 if s is None else s for s in scores])
    theirs = [float(np.sum(value >= t) / value.size) for t in taus]
    mine = dsr_metrics(samples, tau_variant="authors")
    assert list(mine.curve.values) == theirs
    assert mine.correct_at(0.7) == 2 / 6 and mine.curve.thresholds[7] == taus[7]
    assert dsr_metrics(samples).correct_at(0.7) == 3 / 6  # τ = 0.7 exactly counts the 0.7


def test_paper_exact_sets_the_authors_variants_and_refuses_others() -> None:
    config = EvalConfig(dataset="x", out="y", metrics=("dsr",), paper_exact=True)
    assert (config.id_variant, config.clip_iqa_variant, config.tau_variant) == ("authors",) * 3
    assert EvalConfig(dataset="x", out="y", metrics=("dsr",)).tau_variant == "exact"
    for kw in ({"id_variant": "time-order"}, {"tau_variant": "exact"}):
        with pytest.raises(ConfigError, match="--paper-exact sets"):
            EvalConfig(dataset="x", out="y", metrics=("dsr",), paper_exact=True, **kw)
