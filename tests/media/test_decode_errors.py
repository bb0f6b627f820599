"""What a video that cannot be scored raises: a typed error for an empty one, so that callers
tell "empty" from "unreadable" by the type, never by the words of a message."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import pytest

from dsr.errors import DataError, EmptyVideoError
from dsr.media import decode_video


def _no_frames_mp4() -> bytes:
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(8, 1))
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        container.start_encoding()
    return buf.getvalue()


def test_zero_bytes_and_zero_frames_raise_empty_video_error(tmp_path: Path) -> None:
    empty_file = tmp_path / "clip.mp4"
    empty_file.write_bytes(b"")
    for video in (b"", empty_file, _no_frames_mp4()):
        with pytest.raises(EmptyVideoError):
            decode_video(video)


def test_garbage_and_missing_files_are_unreadable_not_empty(tmp_path: Path) -> None:
    for video in (b"an mp4 this is not", tmp_path / "empty" / "missing.mp4"):
        with pytest.raises(DataError) as info:
            decode_video(video)
        assert not isinstance(info.value, EmptyVideoError)
