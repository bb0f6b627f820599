"""The stored mp4 bytes are a function of the frames alone, even on a busy machine: a seed must
reproduce a sample byte for byte, and shards merged must equal a single build."""

from __future__ import annotations

import hashlib
import multiprocessing as mp

import numpy as np

from dsr.media import encode_video


def _spin(seconds: float) -> None:
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_the_same_frames_encode_to_the_same_bytes_under_cpu_load() -> None:
    rng = np.random.default_rng(0)
    # textured frames that change over time, so the encoder has real decisions to make
    frames = np.cumsum((rng.random((33, 64, 96, 3)) * 255).astype(np.uint8), axis=0).astype(
        np.uint8
    )
    busy = [mp.get_context("fork").Process(target=_spin, args=(20.0,)) for _ in range(3)]
    for p in busy:
        p.start()
    try:
        digests = {hashlib.sha256(encode_video(frames, 8)).hexdigest() for _ in range(30)}
    finally:
        for p in busy:
            p.terminate()
            p.join()
    assert len(digests) == 1
