"""A vision model for the loopback OpenAI server that answers the judge's questions from the
synthetic world's ground truth, with a scripted error rate.

It sees only what a real model sees (the question text and the images or the video of the
request). It recognizes the video by comparing the first image with the first frame of every
sample of the asked animal and object (decoded here with PyAV, independently of the judge), and
answers from that sample's true boxes (the synthetic generator's annotations): the relation of the
animal to the object at the first frame (initial question) or the last frame (final question) is
the side of the object its centre lies on most (the largest cosine of docs/method.md §4). Each
answer is flipped when a hash of (sample, question kind, salt) falls below ``error_rate``, so flips
do not depend on the order requests arrive in. ``log`` records every answer with its truth.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from servers.openai import Reply, message_images, message_text, message_videos

QUESTION = re.compile(
    r"Is the (?P<animal>.+) (?P<when>initially|finally) on the (?P<relation>\w+) of the "
    r"(?P<object>.+)\? Answer yes or no\."
)
_AXES = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "top": (0.0, -1.0)}


def _frames(video: bytes) -> list[np.ndarray]:
    import av

    with av.open(io.BytesIO(video)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def relation_of(animal: list[float], obj: list[float]) -> str:
    """The side of the object the animal's centre lies on most (largest cosine)."""
    v = (np.array(animal[:2]) + animal[2:]) / 2 - (np.array(obj[:2]) + obj[2:]) / 2
    return max(_AXES, key=lambda r: float(np.dot(v, _AXES[r])))


def _resized(frame: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    from PIL import Image

    if frame.shape == shape:
        return frame.astype(float)
    return np.asarray(Image.fromarray(frame).resize((shape[1], shape[0]))).astype(float)


class GroundTruthVLM:
    """``server.reset(default=GroundTruthVLM(folder, error_rate=0.2))``."""

    def __init__(
        self, dataset: Path, error_rate: float = 0.0, salt: str = "", reply: str = "{}."
    ) -> None:
        self.error_rate, self.salt, self.reply = error_rate, salt, reply
        self.samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for path in sorted(Path(dataset).glob("samples/*.parquet")):
            for row in pq.read_table(path).to_pylist():
                if row["video"] is None:
                    continue
                frames = _frames(row["video"]["bytes"])
                truth = {
                    "initial": relation_of(row["animal_boxes"][0], row["object_boxes"][0]),
                    "final": relation_of(row["animal_boxes"][-1], row["object_boxes"][-1]),
                }
                self.samples.setdefault((row["animal"], row["object"]), []).append(
                    {
                        "sample_id": row["sample_id"],
                        "first": frames[0],
                        "last": frames[-1],
                        "truth": truth,
                    }
                )
        self.log: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def _match(self, animal: str, obj: str, first: np.ndarray) -> dict[str, Any]:
        candidates = self.samples[(animal, obj)]
        return min(
            candidates,
            key=lambda c: float(np.abs(_resized(c["first"], first.shape) - first).mean()),
        )

    def flipped(self, sample_id: str, kind: str) -> bool:
        digest = hashlib.sha256(f"{sample_id}|{kind}|{self.salt}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < self.error_rate

    def __call__(self, body: dict[str, Any]) -> Reply:
        hit = QUESTION.search(message_text(body))
        assert hit, message_text(body)
        images = message_images(body) or [_frames(v)[0] for v in message_videos(body)]
        kind = "initial" if hit["when"] == "initially" else "final"
        sample = self._match(hit["animal"], hit["object"], images[0].astype(float))
        last_ok = bool(np.abs(_resized(sample["last"], images[-1].shape) - images[-1]).mean() < 12)
        truth = sample["truth"][kind] == hit["relation"]
        flip = self.flipped(sample["sample_id"], kind)
        answer = truth != flip
        with self._lock:
            self.log.append(
                {
                    "sample_id": sample["sample_id"],
                    "kind": kind,
                    "truth": truth,
                    "flipped": flip,
                    "answer": answer,
                    "images": len(message_images(body)),
                    "last_frame_matches": last_ok,
                }
            )
        return Reply.text(self.reply.format("Yes" if answer else "No"))
