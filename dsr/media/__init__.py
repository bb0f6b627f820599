"""Video files: mp4 (h264) encoding and decoding with PyAV, which bundles FFmpeg; and the frames
the authors' models saw (their mp4, then JPEG files)."""

from __future__ import annotations

from dsr.media.authors import authors_mp4, authors_view, jpeg_round_trip
from dsr.media.video import EncodeConfig, decode_video, encode_video, probe_frame_count

__all__ = [
    "EncodeConfig",
    "authors_mp4",
    "authors_view",
    "decode_video",
    "encode_video",
    "jpeg_round_trip",
    "probe_frame_count",
]
