"""The authors' view of the frames: their mp4 (``imageio`` at ``quality=5``), then JPEG files at
OpenCV's default quality, read back. The reference here is their own call chain: imageio's ffmpeg
writer on a file, a decoder, and JPEG files written and read through the file system."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dsr.media import authors_mp4, authors_view, decode_video, jpeg_round_trip

imageio = pytest.importorskip("imageio")
pytest.importorskip("imageio_ffmpeg")


def _frames(n: int = 6, height: int = 48, width: int = 64) -> np.ndarray:
    """Smooth gradients that move, plus a noisy patch: something x264 and JPEG both change."""
    y, x = np.mgrid[0:height, 0:width]
    frames = np.stack(
        [
            np.stack([(x * 4 + 7 * t) % 256, y * 5 % 256, (x + y + 3 * t) % 256], -1)
            for t in range(n)
        ]
    ).astype(np.uint8)
    frames[:, 10:30, 20:44] = np.random.default_rng(0).integers(0, 256, (n, 20, 24, 3))
    return frames


def _imageio_mp4(frames: np.ndarray, path: Path) -> bytes:
    """The authors' writer (DiffSynth's ``save_video(video, path, fps=16, quality=5)``)."""
    writer = imageio.get_writer(path, fps=16, quality=5)
    for frame in frames:
        writer.append_data(frame)
    writer.close()
    return path.read_bytes()


def _x264_settings(mp4: bytes) -> tuple[str, str]:
    """x264's version and the options it records in the stream (its SEI user data)."""
    found = re.search(rb"x264 - core (\d+[^ ]*(?: r\d+ \w+)?).*?options: ([^\x00]*)", mp4, re.S)
    assert found, "no x264 settings in the stream"
    return found.group(1).decode(), found.group(2).decode()


def _jpeg_files(frames: np.ndarray, folder: Path) -> np.ndarray:
    """``cv2.imwrite`` (when OpenCV is there) or Pillow at quality 95, 4:2:0, read back with
    Pillow, as the authors' Grounding DINO and SAM2 read them."""
    folder.mkdir()
    try:
        import cv2
    except ImportError:
        cv2 = None
    out = []
    for i, frame in enumerate(frames):
        path = folder / f"{i:05d}.jpg"
        if cv2 is not None:
            cv2.imwrite(str(path), frame[..., ::-1])
        else:
            Image.fromarray(frame).save(path, quality=95, subsampling=2)
        out.append(np.asarray(Image.open(path).convert("RGB")))
    return np.stack(out)


def test_mp4_is_encoded_with_the_settings_imageio_quality_5_gives(tmp_path: Path) -> None:
    frames = _frames()
    theirs = _imageio_mp4(frames, tmp_path / "theirs.mp4")
    ours = authors_mp4(frames)
    (their_version, their_options), (our_version, our_options) = (
        _x264_settings(theirs),
        _x264_settings(ours),
    )
    assert "crf=25.0" in their_options and "mbtree=1" in their_options
    # the same encoder options (crf 25, x264's default preset and rate control)
    assert our_options == their_options
    if our_version == their_version:  # the same x264 build: the very same pixels
        np.testing.assert_array_equal(decode_video(ours)[0], decode_video(theirs)[0])


def test_authors_view_equals_their_mp4_then_jpeg_files(tmp_path: Path) -> None:
    frames = _frames()
    theirs_mp4 = _imageio_mp4(frames, tmp_path / "theirs.mp4")
    if _x264_settings(authors_mp4(frames))[0] != _x264_settings(theirs_mp4)[0]:
        pytest.skip("imageio-ffmpeg and PyAV bundle different x264 builds here")
    expected = _jpeg_files(decode_video(theirs_mp4)[0], tmp_path / "jpg")
    got = authors_view(frames)
    assert got.shape == frames.shape and got.dtype == np.uint8
    np.testing.assert_array_equal(got, expected)
    assert not np.array_equal(got, frames)  # the round trip did change the pixels


def test_jpeg_alone_for_frames_already_decoded(tmp_path: Path) -> None:
    frames = _frames(n=3, height=33, width=47)  # odd sizes are fine for JPEG
    expected = _jpeg_files(frames, tmp_path / "jpg")
    np.testing.assert_array_equal(authors_view(frames, via_mp4=False), expected)
    np.testing.assert_array_equal(jpeg_round_trip(frames), expected)


def test_odd_sizes_keep_their_shape_through_the_mp4() -> None:
    frames = _frames(n=3, height=33, width=47)
    assert authors_view(frames).shape == frames.shape
