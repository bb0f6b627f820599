"""What the judge shows the model of one video, and the request that asks one question about it.

**Frames** (the default). K frames are taken uniformly over the decoded video of T frames, first
and last included: frame ``i`` of ``0 … K−1`` is ``floor(i·(T−1)/(K−1) + ½)`` (duplicates dropped
when T < K). Each frame is RGB, scaled down (bicubic) so that its longer side is at most
``max_side`` pixels (never up), JPEG-encoded with Pillow at ``jpeg_quality`` (4:2:0 chroma), and
sent as an ``image_url`` part with a ``data:image/jpeg;base64,…`` URL (with ``detail`` when set).
One user message holds, in order: the text part :data:`FRAMES_PREAMBLE`, the K images, and the
question as its own text part, word for word.

**Video** (``--video``, for servers that take video input, e.g. vLLM with Qwen-VL). The stored
mp4 is sent as it is, as a ``video_url`` part with a ``data:video/mp4;base64,…`` URL, followed by
the question; the server samples the frames itself.
"""

from __future__ import annotations

import base64
import io
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from dsr.errors import ConfigError, DataError
from dsr.judge.questions import Question
from dsr.limits import MAX_FRAMES, MAX_SIDE, check_max

__all__ = [
    "DETAILS",
    "FRAMES_PREAMBLE",
    "FrameEncoding",
    "frame_indices",
    "question_body",
    "sample_frames",
    "show_video",
]

FRAMES_PREAMBLE = (
    "The following {k} images are frames of one video, sampled uniformly in time from its first "
    "frame to its last, in order."
)
#: OpenAI's ``detail`` of an image part (None: not sent, the server's default).
DETAILS = ("low", "high", "auto")


@dataclass(frozen=True)
class FrameEncoding:
    """How a video is shown to the model (see the module docstring)."""

    frames: int = 8
    max_side: int = 832
    jpeg_quality: int = 90
    detail: str | None = None
    video: bool = False

    def __post_init__(self) -> None:
        if self.frames < 2:
            raise ConfigError(
                f"frames={self.frames}: at least 2 (the first and the last frame) are needed"
            )
        check_max("frames", self.frames, MAX_FRAMES, "default 8")
        if not 16 <= self.max_side <= MAX_SIDE:
            raise ConfigError(
                f"max_side={self.max_side}: choose 16 … {MAX_SIDE} pixels (default 832)"
            )
        if not 1 <= self.jpeg_quality <= 95:
            raise ConfigError(f"jpeg_quality={self.jpeg_quality}: choose 1 … 95 (default 90)")
        if self.detail is not None and self.detail not in DETAILS:
            raise ConfigError(
                f"detail={self.detail!r}: choose one of {', '.join(DETAILS)} (or leave it unset)"
            )

    def describe(self) -> dict[str, Any]:
        """Everything about the encoding that changes what the model sees (part
        of the cache key)."""
        if self.video:
            return {"mode": "video"}
        return {"mode": "frames", **asdict(self), "preamble": FRAMES_PREAMBLE, "format": "jpeg"}


def frame_indices(num_frames: int, k: int) -> list[int]:
    """The K indices of uniform sampling over ``num_frames`` frames (first and last included)."""
    if num_frames < 1:
        raise DataError("video has zero frames")
    if num_frames == 1:
        return [0]
    picked = ((2 * i * (num_frames - 1) + (k - 1)) // (2 * (k - 1)) for i in range(k))
    return sorted(set(picked))


def _claimed_frames(video: bytes) -> int:
    """The frame count the mp4's header states (0 when it states none)."""
    import av

    with av.open(io.BytesIO(video), mode="r") as container:
        return int(container.streams.video[0].frames) if container.streams.video else 0


def _decode_some(video: bytes, wanted: set[int]) -> dict[int, np.ndarray]:
    import av

    with av.open(io.BytesIO(video), mode="r") as container:
        return {
            i: f.to_ndarray(format="rgb24")
            for i, f in enumerate(container.decode(video=0))
            if i in wanted
        }


def sample_frames(video: bytes, k: int) -> tuple[list[np.ndarray], list[int]]:
    """The K uniformly sampled frames of an mp4 (uint8 RGB) and their indices. Only those frames
    are kept in memory when the header states the frame count truthfully; otherwise the whole
    video is decoded to count them."""
    import av

    from dsr.media import decode_video

    try:
        claimed = _claimed_frames(video)
        if claimed:
            wanted = frame_indices(claimed, k)
            frames = _decode_some(video, set(wanted))
            if len(frames) == len(wanted):
                return [frames[i] for i in wanted], wanted
    except (av.error.FFmpegError, OSError, ValueError):
        pass  # decode_video names the problem
    everything, _ = decode_video(video)
    wanted = frame_indices(len(everything), k)
    return [everything[i] for i in wanted], wanted


def _jpeg(frame: np.ndarray, enc: FrameEncoding) -> bytes:
    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(frame), mode="RGB")
    scale = enc.max_side / max(image.size)
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BICUBIC)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=enc.jpeg_quality)
    return out.getvalue()


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def show_video(video: bytes, enc: FrameEncoding) -> tuple[list[dict[str, Any]], list[int]]:
    """The content parts showing the video (before the question) and the frame indices used
    (empty in video mode: the server picks them)."""
    if enc.video:
        return [{"type": "video_url", "video_url": {"url": _data_url(video, "video/mp4")}}], []
    frames, indices = sample_frames(video, enc.frames)
    parts: list[dict[str, Any]] = [{"type": "text", "text": FRAMES_PREAMBLE.format(k=len(frames))}]
    for frame in frames:
        image: dict[str, Any] = {"url": _data_url(_jpeg(frame, enc), "image/jpeg")}
        if enc.detail:
            image["detail"] = enc.detail
        parts.append({"type": "image_url", "image_url": image})
    return parts, indices


def question_body(
    shown: list[dict[str, Any]], question: Question, sampling: dict[str, Any]
) -> dict[str, Any]:
    """The chat-completions request: one user message with the video's parts, then the question."""
    content = [*shown, {"type": "text", "text": question.text}]
    return {**sampling, "messages": [{"role": "user", "content": content}]}
