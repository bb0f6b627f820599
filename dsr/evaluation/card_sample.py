"""A sample GIF for the model card: the evaluated video with the best DSR-Score, shown on the Hub
in the card and in its widget (as diffusers' LoRA training scripts show their validation images)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["GIF_PATH", "CardSample", "best_sample_gif"]

#: Where the GIF lies in the adapter folder or model repo.
GIF_PATH = "assets/eval_sample.gif"
#: At most this many frames, at most this wide: a light GIF.
MAX_FRAMES = 48
MAX_WIDTH = 320


@dataclass(frozen=True)
class CardSample:
    """The GIF's bytes, the prompt it was made from and the sample it shows."""

    gif: bytes
    prompt: str
    sample_id: str
    dsr_score: float


def best_sample_gif(folder: Path, config: str, split: str, per_sample: Path) -> CardSample | None:
    """The valid sample with the highest DSR-Score of an evaluation as a GIF (None when no
    sample is valid or its video cannot be read)."""
    import polars as pl
    import pyarrow.parquet as pq

    from dsr.builders.folder import DatasetFolder
    from dsr.errors import DataError

    scored = pl.read_parquet(per_sample).filter(pl.col("valid") & pl.col("dsr_score").is_not_null())
    if scored.is_empty():
        return None
    best = scored.sort(["dsr_score", "sample_id"], descending=[True, False]).row(0, named=True)
    for path in DatasetFolder(folder).data_files(config, split):
        table = pq.read_table(path, columns=["sample_id", "prompt", "video"])
        ids = table.column("sample_id").to_pylist()
        if best["sample_id"] in ids:
            row = table.slice(ids.index(best["sample_id"]), 1).to_pylist()[0]
            try:
                gif = _gif((row["video"] or {}).get("bytes") or b"")
            except DataError:
                return None
            return CardSample(gif, str(row["prompt"]), best["sample_id"], float(best["dsr_score"]))
    return None


def _gif(video: bytes) -> bytes:
    from PIL import Image

    from dsr.media.video import decode_video

    frames, fps = decode_video(video)
    step = max(1, -(-len(frames) // MAX_FRAMES))
    frames = frames[::step]
    height, width = frames.shape[1:3]
    size = (min(width, MAX_WIDTH), max(1, round(height * min(width, MAX_WIDTH) / width)))
    images = [Image.fromarray(np.ascontiguousarray(f)).resize(size) for f in frames]
    buf = io.BytesIO()
    duration = round(1000 * step / (fps or 8))
    images[0].save(
        buf, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=0
    )
    return buf.getvalue()
