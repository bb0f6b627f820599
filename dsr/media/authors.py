"""The frames the authors' detector and SAM2 saw (docs/method.md §3), from frames in memory.

The authors' sampler stores each video with ``imageio.get_writer(path, fps=16, quality=5)``:
imageio-ffmpeg turns ``quality=5`` into libx264 at ``-crf int((1 - 5/10) * 51)`` = 25, yuv420p,
x264's default preset and parameters, the RGB frames converted to yuv420p by FFmpeg's default
(bicubic) scaler. Their detection script decodes that mp4 with OpenCV, writes each frame as a JPEG
file with ``cv2.imwrite`` (libjpeg at quality 95, 4:2:0 chroma subsampling) and reads the files
back with PIL.

Here PyAV (which bundles FFmpeg and x264) encodes with the same settings and Pillow writes the
JPEGs: Pillow at quality 95 with 4:2:0 subsampling writes the very bytes OpenCV writes (both call
libjpeg-turbo's defaults; checked on this project's machines), and decoding an h264 stream with
PyAV gives OpenCV's pixels. No OpenCV is needed.

Unlike :func:`~dsr.media.encode_video`, which turns x264's macroblock-tree rate control off so
that stored files are byte-for-byte reproducible, this keeps x264's defaults (mbtree on), as the
authors' encode had them: 30 of 30 repeated encodes were identical here, but a heavily loaded
machine once made mbtree encodes vary.
"""

from __future__ import annotations

import io
from fractions import Fraction

import numpy as np

from dsr.errors import DataError
from dsr.media.video import _even, decode_video

__all__ = [
    "AUTHORS_CRF",
    "AUTHORS_FPS",
    "AUTHORS_JPEG_QUALITY",
    "authors_mp4",
    "authors_view",
    "jpeg_round_trip",
]

#: imageio's ``quality=5`` for libx264: ``int((1 - 5 / 10) * 51)``.
AUTHORS_CRF = 25
#: The authors store every video at 16 frames per second (x264's rate control sees the rate).
AUTHORS_FPS = 16
#: ``cv2.imwrite``'s default JPEG quality.
AUTHORS_JPEG_QUALITY = 95


def _checked(frames: np.ndarray) -> np.ndarray:
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8 or arr.shape[0] == 0:
        raise DataError(f"expected uint8 frames (T>0, H, W, 3), got {arr.dtype} {arr.shape}")
    return arr


def authors_mp4(frames: np.ndarray, fps: int = AUTHORS_FPS) -> bytes:
    """mp4 bytes of uint8 frames (T, H, W, 3) encoded as ``imageio`` at ``quality=5`` encodes them.

    imageio would rescale a size that is not a multiple of 16 (the authors' 480×832 is one); here
    an odd size is padded by one edge row or column instead, as :func:`~dsr.media.encode_video`
    does, so that boxes stay in the frame's pixels.
    """
    import av

    arr = _even(_checked(frames))
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(int(fps), 1))
        stream.width, stream.height = arr.shape[2], arr.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(AUTHORS_CRF)}  # x264's defaults otherwise, as imageio's ffmpeg
        for frame in arr:
            rgb = av.VideoFrame.from_ndarray(frame, format="rgb24")
            yuv = rgb.reformat(format="yuv420p", interpolation="BICUBIC")  # ffmpeg's default scaler
            for packet in stream.encode(yuv):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def jpeg_round_trip(frames: np.ndarray, quality: int = AUTHORS_JPEG_QUALITY) -> np.ndarray:
    """Each frame written as a JPEG at ``quality`` (4:2:0, as ``cv2.imwrite``) and read back."""
    from PIL import Image

    out = np.empty_like(_checked(frames))
    for i, frame in enumerate(frames):
        buf = io.BytesIO()
        Image.fromarray(frame).save(buf, format="JPEG", quality=quality, subsampling="4:2:0")
        buf.seek(0)
        with Image.open(buf) as img:
            out[i] = np.asarray(img.convert("RGB"))
    return out


def authors_view(frames: np.ndarray, *, via_mp4: bool = True) -> np.ndarray:
    """``frames`` as the authors' models see them: through their mp4 (``via_mp4``; leave it out for
    frames already decoded from a stored video) and then through JPEG files; same shape."""
    arr = _checked(frames)
    if via_mp4:
        decoded = decode_video(authors_mp4(arr))[0]
        arr = np.ascontiguousarray(decoded[: arr.shape[0], : arr.shape[1], : arr.shape[2]])
    return jpeg_round_trip(arr)
