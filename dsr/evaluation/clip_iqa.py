"""CLIP-IQA as the authors computed it (docs/method.md §7): torchmetrics'
``CLIPImageQualityAssessment(data_range=1.0, prompts=("natural", "quality"))`` with its default
``clip_iqa`` model, which is piq's CLIP ResNet-50.

For frames ``x`` in [0, 1] (an 8-bit frame / 255, the whole 480×832 frame: no resize, no crop):

    image  = encode_image((x − CLIP mean) / CLIP std, no positional embedding), L2-normalized
    anchor = encode_text(the anchor text's CLIP tokens, zero-padded to the context length),
             L2-normalized
    score  = softmax over the pair (positive, negative) of 100 × image · anchor, first entry

then the mean over a video's frames, then over the videos. The model class and its loading are
piq's (``piq.feature_extractors.clip``: a ``pip install 'spatialalign[paper-metrics]'`` extra);
the anchor texts' token ids are written out below (CLIP's BPE, as the tokenizer of
``openai/clip-vit-base-patch16`` that torchmetrics uses gives them), so no tokenizer is loaded.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dsr.errors import ModelLoadError

__all__ = [
    "ANCHOR_TOKENS",
    "CLIP_MEAN",
    "CLIP_STD",
    "PIQ_WEIGHTS_URL",
    "PiqClipIQA",
    "anchor_tokens",
    "load_piq_clip",
]

#: Where piq downloads the weights (a TorchScript archive of OpenAI's CLIP RN50).
PIQ_WEIGHTS_URL = "https://github.com/photosynthesis-team/piq/releases/download/v0.7.1/RN50.pt"
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
#: CLIP token ids (start, words, ".", end) of torchmetrics' anchor texts of ``natural`` and
#: ``quality`` (the only pairs dsr offers, see :data:`dsr.evaluation.models.ANCHORS`).
ANCHOR_TOKENS: dict[str, tuple[int, ...]] = {
    "Natural photo.": (49406, 3288, 1125, 269, 49407),
    "Synthetic photo.": (49406, 19917, 1125, 269, 49407),
    "Good photo.": (49406, 886, 1125, 269, 49407),
    "Bad photo.": (49406, 2103, 1125, 269, 49407),
}


def anchor_tokens(texts: Sequence[str], context_length: int) -> Any:
    """(len(texts), context_length) long tensor: each text's ids, then zeros (as torchmetrics)."""
    import torch

    out = torch.zeros(len(texts), context_length, dtype=torch.long)
    for i, text in enumerate(texts):
        ids = ANCHOR_TOKENS[text]
        out[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return out


#: What reading a file that holds no CLIP weights raises (piq's build_model asserts shapes).
_NOT_WEIGHTS = (
    OSError,
    EOFError,
    pickle.UnpicklingError,
    RuntimeError,
    KeyError,
    ValueError,
    AssertionError,
)


def _state_dict(path: Path) -> dict[str, Any]:
    """The tensors of a TorchScript archive (OpenAI's and piq's RN50.pt) or of a saved state
    dict."""
    import torch

    try:
        return dict(torch.jit.load(str(path), map_location="cpu").state_dict())
    except RuntimeError:  # not an archive: a plain state dict
        return dict(torch.load(path, map_location="cpu", weights_only=True))


def load_piq_clip(weights: str | None = None) -> Any:
    """piq's CLIP (float32, eval mode) from ``weights`` (RN50.pt) or, without, as piq loads it
    (downloaded once to ~/.cache/clip)."""
    from piq.feature_extractors import clip

    if weights is None:
        try:
            return clip.load()
        except OSError as exc:
            raise ModelLoadError(
                f"could not download piq's CLIP ResNet-50 ({type(exc).__name__}): fetch "
                f"{PIQ_WEIGHTS_URL} where there is internet and give --clip-iqa-weights PATH"
            ) from None
    path = Path(weights).expanduser()
    try:
        return clip.build_model(_state_dict(path)).float().eval()
    except _NOT_WEIGHTS as exc:
        raise ModelLoadError(
            f"--clip-iqa-weights {weights}: not the weights of a CLIP ResNet "
            f"({type(exc).__name__}): give piq's or OpenAI's RN50.pt ({PIQ_WEIGHTS_URL})"
        ) from None


def weights_id(weights: str | None) -> str:
    """What identifies the weights in the recorded settings: the file's name and sha256, or
    piq's download."""
    if weights is None:
        return "piq RN50.pt (piq.feature_extractors.clip.load)"
    digest = hashlib.sha256()
    with Path(weights).expanduser().open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return f"{Path(weights).name} sha256:{digest.hexdigest()}"


@dataclass
class PiqClipIQA:
    """The authors' CLIP-IQA scores of frames for the chosen anchor pairs (loaded on first use)."""

    weights: str | None = None
    anchors: tuple[str, ...] = ("natural", "quality")
    batch_size: int = 64
    device: str = "cpu"
    dtype: str = "float32"
    _model: Any = field(default=None, repr=False)
    _anchor_features: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from dsr.evaluation.models import check_anchors

        check_anchors(self.anchors)

    def _load(self) -> None:
        import torch

        from dsr.evaluation.models import ANCHORS, _dtype

        model = load_piq_clip(self.weights)
        self._model = model.to(self.device, _dtype(self.dtype, self.device)).eval()
        # the frames arrive channels-last (uint8 (n, H, W, 3)): convolutions in that layout skip a
        # transpose per layer, same values
        self._model.visual.to(memory_format=torch.channels_last)
        texts = [text for name in self.anchors for text in ANCHORS[name]]
        tokens = anchor_tokens(texts, model.context_length).to(self.device)
        with torch.inference_mode():
            anchors = self._model.encode_text(tokens).float()
        self._anchor_features = anchors / anchors.norm(p=2, dim=-1, keepdim=True)

    def scores(self, frames: np.ndarray) -> np.ndarray:
        """(n, len(anchors)) CLIP-IQA scores of uint8 frames (n, H, W, 3), whole frames,
        batched."""
        import torch

        from dsr.evaluation.models import _batches
        from dsr.evaluation.pooling import piq_clip_image_features

        if self._model is None:
            self._load()
        mean = torch.tensor(CLIP_MEAN, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(CLIP_STD, device=self.device).view(1, 3, 1, 1)
        out = []
        with torch.inference_mode():
            for part in _batches(len(frames), self.batch_size):
                x = torch.from_numpy(np.ascontiguousarray(frames[part])).to(self.device)
                x = (x.permute(0, 3, 1, 2).float() / 255.0 - mean) / std
                feats = piq_clip_image_features(self._model, x).float()
                feats = feats / feats.norm(p=2, dim=-1, keepdim=True)
                logits = 100 * feats @ self._anchor_features.t()
                probs = logits.reshape(len(feats), -1, 2).softmax(-1)[:, :, 0]
                out.append(probs.cpu().double().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.anchors)))
