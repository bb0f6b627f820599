"""Video files: mp4 (h264) encoding and decoding with PyAV, which bundles FFmpeg."""

from __future__ import annotations

from dsr.media.video import EncodeConfig, decode_video, encode_video, probe_frame_count

__all__ = ["EncodeConfig", "decode_video", "encode_video", "probe_frame_count"]
