"""Encode uint8 frames to mp4 bytes and decode mp4 bytes (or a file) back to frames.

h264 in yuv420p needs even width and height: odd sizes are padded by one edge-replicated row or
column (never cropped, so pixel boxes stay valid). Unreadable input raises :class:`DataError`
naming the problem; the sample builder turns it into an invalid sample.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from dsr.errors import ConfigError, DataError, EmptyVideoError

__all__ = ["EncodeConfig", "decode_video", "encode_video", "probe_frame_count"]


@dataclass(frozen=True)
class EncodeConfig:
    """How videos are stored."""

    codec: str = field(default="libx264", metadata={"help": "FFmpeg video encoder"})
    crf: int = field(
        default=18,
        metadata={
            "help": "x264 quality of the stored mp4: constant rate factor, 0 lossless … 51 worst."
        },
    )
    preset: str = field(
        default="medium", metadata={"help": "x264 speed/size preset (ultrafast … veryslow)"}
    )
    pix_fmt: str = field(
        default="yuv420p", metadata={"help": "pixel format; yuv420p plays everywhere"}
    )

    def __post_init__(self) -> None:
        if not 0 <= self.crf <= 51:
            raise ConfigError(
                f"EncodeConfig.crf={self.crf} must be within 0..51 (18 is visually lossless)"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _even(frames: np.ndarray) -> np.ndarray:
    """Pad height/width to even sizes by repeating the last row/column."""
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    if not (pad_h or pad_w):
        return frames
    return np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")


def _check_frames(frames: np.ndarray) -> np.ndarray:
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.shape[0] == 0:
        raise DataError(f"expected frames of shape (T>0, H, W, 3), got {arr.shape}")
    if arr.dtype != np.uint8:
        raise DataError(
            f"expected uint8 frames, got {arr.dtype}: convert with (x * "
            "255).round().astype(np.uint8)"
        )
    return _even(arr)


def encode_video(frames: np.ndarray, fps: int, config: EncodeConfig | None = None) -> bytes:
    """mp4 bytes of uint8 frames (T, H, W, 3) at ``fps`` frames per second."""
    import av

    cfg = config or EncodeConfig()
    arr = _check_frames(frames)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        stream = container.add_stream(cfg.codec, rate=Fraction(int(fps), 1))
        stream.width, stream.height = arr.shape[2], arr.shape[1]
        stream.pix_fmt = cfg.pix_fmt
        options = {"crf": str(cfg.crf), "preset": cfg.preset}
        if cfg.codec == "libx264":
            # x264's macroblock-tree rate control made the bytes of the same frames vary between
            # runs on a loaded machine (13 different files in 100 encodes, with 1 thread or many);
            # without it, 100 of 100 were identical and independent of the thread count. A seed
            # must reproduce a sample byte for byte, so it is off (files grow slightly at crf 18).
            options["x264-params"] = "mbtree=0"
        stream.options = options
        for frame in arr:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def _source(video: bytes | str | Path) -> Any:
    if isinstance(video, (bytes, bytearray)):
        if not video:
            raise EmptyVideoError("video is empty (0 bytes)")
        return io.BytesIO(bytes(video))
    path = Path(video)
    if not path.is_file():
        raise DataError(f"video file {path} does not exist")
    if path.stat().st_size == 0:
        raise EmptyVideoError(f"video file {path} is empty (0 bytes)")
    return str(path)


def decode_video(video: bytes | str | Path) -> tuple[np.ndarray, float]:
    """Frames (T, H, W, 3) uint8 and the frame rate of an mp4 (bytes or path).

    Raises :class:`EmptyVideoError` when it holds no frames (0 bytes, no video stream, zero
    frames), :class:`DataError` when it is not a readable video.
    """
    import av

    try:
        with av.open(_source(video)) as container:
            if not container.streams.video:
                raise EmptyVideoError("file has no video stream (zero frames to score)")
            stream = container.streams.video[0]
            rate = float(stream.average_rate or stream.base_rate or 0.0)
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"video is not readable ({type(exc).__name__}: {exc})") from None
    if not frames:
        raise EmptyVideoError("video has zero frames")
    return np.stack(frames), rate


def probe_frame_count(video: bytes | str | Path) -> int:
    """Number of decodable frames (decodes the stream; cheap for short clips)."""
    return int(decode_video(video)[0].shape[0])
