"""The data the pages show, from stored rows: pure functions, no files.

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
from typing import Any

from dsr.builders.pairs import pair_ids
from dsr.builders.samples import PROMPT_FIELDS
from dsr.report.layout import VIDEO_FILE, file_key

__all__ = [
    "CLASS_CODES",
    "INDEX_COLUMNS",
    "box_at",
    "frame_boxes",
    "index_table",
    "pair_entries",
    "poster_frame",
    "sample_page_data",
    "sample_roles",
]

#: Frame classes as one letter each (the page draws the strip from a string).
CLASS_CODES = {"valid": "v", "miss": "m", "redundant": "r"}
#: Columns of the gallery index, in order.
INDEX_COLUMNS = ("key", "id", "split", "type", "prompt_id", "seed", "animal", "object", "valid", "reason", "score",
                 "role", "video", "frame", "fps", "width", "height", "animal_box", "object_box", "pair")
WINNER, LOSER = "winner", "loser"


def _num(value: Any, digits: int) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number, digits) if math.isfinite(number) else None


def _box(box: Sequence[Any] | None, shown: bool) -> list[float] | None:
    if not shown or box is None or len(box) != 4:
        return None
    values = [_num(v, 2) for v in box]
    return [v for v in values if v is not None] if None not in values else None


def frame_boxes(boxes: Sequence[Any] | None, present: Sequence[Any] | None) -> list[list[float] | None]:
    """Per frame the box rounded to 0.01 px, or None where the row marks it absent or it is not
    four finite numbers."""
    flags = list(present or [])
    return [_box(box, bool(flags[i]) if i < len(flags) else True) for i, box in enumerate(boxes or [])]


def box_at(boxes: Sequence[list[float] | None], frame: int | None) -> list[float] | None:
    if frame is None or not 0 <= frame < len(boxes):
        return None
    return boxes[frame]


def poster_frame(row: Mapping[str, Any]) -> int:
    """The frame a gallery card shows: the key frame of a valid sample, else the first frame
    with both boxes, else 0."""
    if row.get("key_frame") is not None:
        return int(row["key_frame"])
    both = zip(row.get("animal_present") or [], row.get("object_present") or [], strict=False)
    return next((i for i, (a, o) in enumerate(both) if a and o), 0)


def _json_field(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _detections(frames: Sequence[Any] | None) -> list[list[list[Any]]]:
    """Per frame its detections as ``[label, score, x1, y1, x2, y2]``."""
    out = []
    for frame in frames or []:
        out.append([[str(d.get("label")), _num(d.get("score"), 4), *[_num(v, 2) for v in (d.get("box") or [None] * 4)]]
                    for d in frame or []])
    return out


def _curve(values: Sequence[Any] | None) -> list[float | None]:
    return [_num(v, 6) for v in values or []]


def _scores(row: Mapping[str, Any]) -> dict[str, float | None]:
    return {k: _num(row.get(k), 6) for k in ("dsr_score", "r_init", "r_final", "g_init", "g_final")}


def _counts(row: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("num_frames", "n_valid_frames", "n_miss_frames", "n_redundant_frames", "n_usable_frames",
            "n_degenerate_frames")
    return {k: row.get(k) for k in keys}


def sample_page_data(row: Mapping[str, Any], *, has_video: bool, role: str | None = None,
                     pair: str | None = None, eval_values: Mapping[str, float | None] | None = None) -> dict[str, Any]:
    """Everything the page of one sample shows, from its stored row."""
    key = file_key(str(row["sample_id"]))
    score_settings = row.get("score_settings") or {}
    return {
        "key": key, "id": row["sample_id"], "split": row.get("split"), "prompt_id": row.get("prompt_id"),
        "seed": row.get("seed"), "fields": {k: row.get(k) for k in PROMPT_FIELDS},
        "video": VIDEO_FILE.format(key=key) if has_video else None,
        "num_frames": row.get("num_frames") or 0, "fps": row.get("fps") or 0,
        "width": row.get("width") or 0, "height": row.get("height") or 0,
        "animal_boxes": frame_boxes(row.get("animal_boxes"), row.get("animal_present")),
        "object_boxes": frame_boxes(row.get("object_boxes"), row.get("object_present")),
        "classes": "".join(CLASS_CODES.get(str(c), "?") for c in row.get("frame_classes") or []),
        "detections": _detections(row.get("detections")),
        "ssr_initial": _curve(row.get("ssr_initial")), "ssr_final": _curve(row.get("ssr_final")),
        "key_frame": row.get("key_frame"), "valid": bool(row.get("valid")), "reason": row.get("reason"),
        "reason_detail": row.get("reason_detail"), "scores": _scores(row), "counts": _counts(row),
        "m": score_settings.get("m") if isinstance(score_settings, Mapping) else None,
        "score_settings": score_settings, "encode_settings": row.get("encode_settings"),
        "generator": row.get("generator"), "generator_settings": _json_field(row.get("generator_settings")),
        "tracker": row.get("tracker"), "tracker_settings": _json_field(row.get("tracker_settings")),
        "deviations": list(row.get("deviations") or []), "notes": _json_field(row.get("notes")),
        "role": role, "pair": pair, "eval": dict(eval_values or {}),
    }


def _int_box(box: list[float] | None) -> list[int] | None:
    return None if box is None else [round(v) for v in box]


def index_table(rows: Sequence[Mapping[str, Any]], *, videos: set[str], roles: Mapping[str, str],
                pairs: Mapping[str, str]) -> dict[str, Any]:
    """The gallery index: ``{"columns": INDEX_COLUMNS, "rows": [...]}``, one row per sample in
    the order of ``rows``; ``videos`` holds the ids with a video, ``roles`` winner/loser per id,
    ``pairs`` the pair key per id."""
    table = []
    for row in rows:
        sid = str(row["sample_id"])
        frame = poster_frame(row)
        animal = box_at(frame_boxes(row.get("animal_boxes"), row.get("animal_present")), frame)
        obj = box_at(frame_boxes(row.get("object_boxes"), row.get("object_present")), frame)
        table.append([file_key(sid), sid, row.get("split"), row.get("dsr_type"), row.get("prompt_id"), row.get("seed"),
                      row.get("animal"), row.get("object"), 1 if row.get("valid") else 0, row.get("reason"),
                      _num(row.get("dsr_score"), 6), roles.get(sid), 1 if sid in videos else 0, frame,
                      row.get("fps") or 0, row.get("width") or 0, row.get("height") or 0,
                      _int_box(animal), _int_box(obj), pairs.get(sid)])
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
            sides[side] = [{"id": sid, "key": file_key(sid), "score": _num(s, 6)} for sid, s in zip(ids, scores, strict=False)]
        missing = [m["id"] for side in sides.values() for m in side if m["id"] not in known]
        out.append({"key": pair_key(row), "prompt_id": row.get("prompt_id"), "split": row.get("split"),
                    "prompt": row.get("prompt"), "dsr_type": row.get("dsr_type"), "tau": _num(row.get("tau"), 6),
                    "n_samples": row.get("n_samples"), "n_valid": row.get("n_valid"),
                    "winners": sides["chosen"], "losers": sides["rejected"], "missing": missing})
    return out
