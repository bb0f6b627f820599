"""The data the pages show, from stored rows: pure functions, no files.

A sample is its row of scalar columns (ids, prompt fields, scores, settings) and its per-frame
data as numpy arrays (:class:`FrameData`), so that a report of thousands of samples does no
per-value Python work.

* :func:`sample_page_data`: one sample's page (per-frame boxes, classes, detections, SSR curves,
  prompt fields, score components, settings, eval values).
* :func:`index_table`: one compact entry per sample for the gallery's filters and the navigation
  between samples.
* :func:`pair_entries` and :func:`sample_roles`: the ``pairs`` rows, and which samples are winners
  or losers.

Numbers are rounded for size (boxes to 0.01 px, scores to 1e-6); a value that is absent, NaN or
infinite becomes ``None`` (JSON ``null``), so the written JSON is strict.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dsr.builders.pairs import pair_ids
from dsr.builders.samples import PROMPT_FIELDS
from dsr.report.layout import VIDEO_FILE, file_key

__all__ = [
    "CLASS_CODES",
    "INDEX_COLUMNS",
    "FrameData",
    "Sample",
    "box_list",
    "index_table",
    "pair_entries",
    "poster_frame",
    "sample_page_data",
    "sample_roles",
    "value_list",
]

#: Frame classes as one letter each (the page draws the strip from a string).
CLASS_CODES = {"valid": "v", "miss": "m", "redundant": "r"}
#: Columns of the gallery index, in order.
INDEX_COLUMNS = (
    "key",
    "id",
    "split",
    "type",
    "prompt_id",
    "seed",
    "animal",
    "object",
    "valid",
    "reason",
    "score",
    "role",
    "video",
    "frame",
    "fps",
    "width",
    "height",
    "animal_box",
    "object_box",
    "pair",
)
WINNER, LOSER = "winner", "loser"


@dataclass(frozen=True)
class FrameData:
    """The per-frame columns of one sample: boxes (frames, 4) with NaN where absent, presence
    flags, frame classes as letters (:data:`CLASS_CODES`, ``?`` for others), SSR values (NaN where
    unusable), and the detections flattened (``det_offsets[f]:det_offsets[f +
    1]`` are frame f's)."""

    animal_boxes: np.ndarray
    object_boxes: np.ndarray
    animal_present: np.ndarray
    object_present: np.ndarray
    classes: str
    ssr_initial: np.ndarray
    ssr_final: np.ndarray
    det_offsets: np.ndarray
    det_labels: list[str]
    det_scores: np.ndarray
    det_boxes: np.ndarray

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FrameData:
        """From a row in the current schema (:func:`dsr.builders.samples.current_row`)."""
        frames = row.get("detections") or []
        dets = [d for frame in frames for d in frame or []]
        return cls(
            _boxes(row.get("animal_boxes")),
            _boxes(row.get("object_boxes")),
            np.asarray(row.get("animal_present") or [], dtype=bool),
            np.asarray(row.get("object_present") or [], dtype=bool),
            "".join(CLASS_CODES.get(str(c), "?") for c in row.get("frame_classes") or []),
            _floats(row.get("ssr_initial")),
            _floats(row.get("ssr_final")),
            np.cumsum([0, *(len(f or []) for f in frames)]),
            [str(d.get("label")) for d in dets],
            _floats([d.get("score") for d in dets]),
            _boxes([d.get("box") for d in dets]),
        )


def _floats(values: Sequence[Any] | None) -> np.ndarray:
    return np.asarray([math.nan if v is None else v for v in values or []], dtype=float)


def _boxes(boxes: Sequence[Any] | None) -> np.ndarray:
    rows = [
        [math.nan] * 4 if b is None or len(b) != 4 else [math.nan if v is None else v for v in b]
        for b in boxes or []
    ]
    return np.asarray(rows, dtype=float).reshape(-1, 4)


@dataclass(frozen=True)
class Sample:
    """One sample: its scalar columns and its per-frame data."""

    row: dict[str, Any]
    frames: FrameData

    @property
    def sample_id(self) -> str:
        return str(self.row["sample_id"])


def _num(value: Any, digits: int) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, digits) if math.isfinite(number) else None


def _shown(boxes: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Per frame whether its box is drawn: flagged present (frames past the flags count as
    present) and four finite numbers."""
    flags = np.ones(len(boxes), dtype=bool)
    flags[: min(len(boxes), len(present))] = present[: len(boxes)]
    return flags & np.isfinite(boxes).all(axis=1)


def box_list(boxes: np.ndarray, present: np.ndarray) -> list[list[float] | None]:
    """Per frame the box rounded to 0.01 px, or None where it is not drawn (see :func:`_shown`)."""
    out: list[list[float] | None] = np.round(boxes, 2).tolist()
    for i in np.flatnonzero(~_shown(boxes, present)):
        out[i] = None
    return out


def value_list(values: np.ndarray, digits: int = 6) -> list[float | None]:
    """``values`` rounded, None where NaN or infinite."""
    out: list[float | None] = np.round(values, digits).tolist()
    for i in np.flatnonzero(~np.isfinite(values)):
        out[i] = None
    return out


def poster_frame(row: Mapping[str, Any], frames: FrameData) -> int:
    """The frame a gallery card shows: the key frame of a valid sample, else the first frame
    with both boxes, else 0."""
    if row.get("key_frame") is not None:
        return int(row["key_frame"])
    both = _shown(frames.animal_boxes, frames.animal_present)
    n = min(len(both), len(frames.object_boxes))
    both = both[:n] & _shown(frames.object_boxes, frames.object_present)[:n]
    hits = np.flatnonzero(both)
    return int(hits[0]) if hits.size else 0


def _json_field(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _detections(frames: FrameData) -> dict[str, Any]:
    """The detections in columns: frame f's are entries ``offsets[f]`` to ``offsets[f + 1]``."""
    return {
        "offsets": [int(v) for v in frames.det_offsets],
        "labels": list(frames.det_labels),
        "scores": value_list(frames.det_scores, 4),
        "boxes": np.round(frames.det_boxes, 2).tolist(),
    }


def _depth(row: Mapping[str, Any]) -> dict[str, list[float | None]] | None:
    """The per-frame depth values of a sample placed in depth (front, behind); None for the
    others (their depth columns are null, or absent in a dataset built before depth)."""
    if row.get("animal_depth") is None:
        return None
    return {
        name: value_list(_floats(row.get(f"{name}_depth" if name != "occlusion" else name)), 4)
        for name in ("animal", "object", "occlusion")
    }


def _scores(row: Mapping[str, Any]) -> dict[str, float | None]:
    return {k: _num(row.get(k), 6) for k in ("dsr_score", "r_init", "r_final", "g_init", "g_final")}


def _counts(row: Mapping[str, Any]) -> dict[str, Any]:
    keys = (
        "num_frames",
        "n_valid_frames",
        "n_miss_frames",
        "n_redundant_frames",
        "n_usable_frames",
        "n_degenerate_frames",
    )
    return {k: row.get(k) for k in keys}


def sample_page_data(
    sample: Sample,
    *,
    has_video: bool,
    role: str | None = None,
    pair: str | None = None,
    eval_values: Mapping[str, float | None] | None = None,
) -> dict[str, Any]:
    """Everything the page of one sample shows, from its stored row."""
    row, frames = sample.row, sample.frames
    key = file_key(sample.sample_id)
    score_settings = row.get("score_settings") or {}
    return {
        "key": key,
        "id": sample.sample_id,
        "split": row.get("split"),
        "prompt_id": row.get("prompt_id"),
        "seed": row.get("seed"),
        "fields": {k: row.get(k) for k in PROMPT_FIELDS},
        "video": VIDEO_FILE.format(key=key) if has_video else None,
        "num_frames": row.get("num_frames") or 0,
        "fps": row.get("fps") or 0,
        "width": row.get("width") or 0,
        "height": row.get("height") or 0,
        "animal_boxes": box_list(frames.animal_boxes, frames.animal_present),
        "object_boxes": box_list(frames.object_boxes, frames.object_present),
        "classes": frames.classes,
        "detections": _detections(frames),
        "ssr_initial": value_list(frames.ssr_initial),
        "ssr_final": value_list(frames.ssr_final),
        "depth": _depth(row),
        "key_frame": row.get("key_frame"),
        "valid": bool(row.get("valid")),
        "reason": row.get("reason"),
        "reason_detail": row.get("reason_detail"),
        "scores": _scores(row),
        "counts": _counts(row),
        "m": score_settings.get("m") if isinstance(score_settings, Mapping) else None,
        "score_settings": score_settings,
        "encode_settings": row.get("encode_settings"),
        "generator": row.get("generator"),
        "generator_settings": _json_field(row.get("generator_settings")),
        "tracker": row.get("tracker"),
        "tracker_settings": _json_field(row.get("tracker_settings")),
        "deviations": list(row.get("deviations") or []),
        "notes": _json_field(row.get("notes")),
        "role": role,
        "pair": pair,
        "eval": dict(eval_values or {}),
    }


def _box_at(boxes: np.ndarray, present: np.ndarray, frame: int) -> list[int] | None:
    if (
        not 0 <= frame < len(boxes)
        or not _shown(boxes[frame : frame + 1], present[frame : frame + 1])[0]
    ):
        return None
    return [round(float(v)) for v in boxes[frame]]


def index_table(
    samples: Sequence[Sample],
    *,
    videos: set[str],
    roles: Mapping[str, str],
    pairs: Mapping[str, str],
) -> dict[str, Any]:
    """The gallery index: ``{"columns": INDEX_COLUMNS, "rows": [...]}``, one row per sample in
    the order of ``samples``; ``videos`` holds the ids with a video, ``roles`` winner/loser per id,
    ``pairs`` the pair key per id."""
    table = []
    for sample in samples:
        row, frames, sid = sample.row, sample.frames, sample.sample_id
        frame = poster_frame(row, frames)
        table.append(
            [
                file_key(sid),
                sid,
                row.get("split"),
                row.get("dsr_type"),
                row.get("prompt_id"),
                row.get("seed"),
                row.get("animal"),
                row.get("object"),
                1 if row.get("valid") else 0,
                row.get("reason"),
                _num(row.get("dsr_score"), 6),
                roles.get(sid),
                1 if sid in videos else 0,
                frame,
                row.get("fps") or 0,
                row.get("width") or 0,
                row.get("height") or 0,
                _box_at(frames.animal_boxes, frames.animal_present, frame),
                _box_at(frames.object_boxes, frames.object_present, frame),
                pairs.get(sid),
            ]
        )
    return {"columns": list(INDEX_COLUMNS), "rows": table}


def pair_key(row: Mapping[str, Any]) -> str:
    return file_key(f"{row.get('split')}-{row.get('prompt_id')}")


def sample_roles(pairs: Sequence[Mapping[str, Any]]) -> tuple[dict[str, str], dict[str, str]]:
    """Per sample id its role (winner or loser) in the ``pairs`` config, and its pair key."""
    roles: dict[str, str] = {}
    keys: dict[str, str] = {}
    for row in pairs:
        for side, role in (("chosen", WINNER), ("rejected", LOSER)):
            for sid in pair_ids(row, side):
                roles[sid], keys[sid] = role, pair_key(row)
    return roles, keys


def pair_entries(pairs: Sequence[Mapping[str, Any]], known: set[str]) -> list[dict[str, Any]]:
    """One entry per ``pairs`` row: its winners and losers (ids, sample keys, scores); ``missing``
    lists the ids that the report has no sample for."""
    out = []
    for row in pairs:
        sides = {}
        for side in ("chosen", "rejected"):
            ids = pair_ids(row, side)
            scores = list(row.get(f"{side}_scores") or [None] * len(ids))
            sides[side] = [
                {"id": sid, "key": file_key(sid), "score": _num(s, 6)}
                for sid, s in zip(ids, scores, strict=False)
            ]
        missing = [m["id"] for side in sides.values() for m in side if m["id"] not in known]
        out.append(
            {
                "key": pair_key(row),
                "prompt_id": row.get("prompt_id"),
                "split": row.get("split"),
                "prompt": row.get("prompt"),
                "dsr_type": row.get("dsr_type"),
                "tau": _num(row.get("tau"), 6),
                "n_samples": row.get("n_samples"),
                "n_valid": row.get("n_valid"),
                "winners": sides["chosen"],
                "losers": sides["rejected"],
                "missing": missing,
            }
        )
    return out
