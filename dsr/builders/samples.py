"""One row of the ``samples`` config per (prompt, seed): the reusable per-sample step.

:func:`build_sample` takes a prompt record, a seed and a video (a generator's
:class:`~dsr.generation.base.GeneratedVideo`, raw frames, mp4 bytes or a file path), runs a
tracker, decides validity, computes the DSR-Score and returns the row. Every problem with the
inputs (a prompt that no longer parses, an unreadable, empty or zero-frame video, a video without
annotations for the ``annotations`` tracker) gives an *invalid row with a reason*, never an
exception, so a build goes on. ``SAMPLE_COLUMNS`` is the one place the row schema is defined.
"""

from __future__ import annotations

import json
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from dsr.errors import (
    ConfigError,
    DataError,
    DsrError,
    EmptyVideoError,
    ModelLoadError,
    PromptParseError,
)
from dsr.generation.base import Annotations, GeneratedVideo
from dsr.media import EncodeConfig, decode_video, encode_video
from dsr.prompts import DSRPrompt, parse_prompt
from dsr.scoring.dsr_score import ScoreConfig, dsr_score
from dsr.scoring.geometry import degenerate_mask, usable_mask
from dsr.scoring.relations import DepthInputs
from dsr.scoring.validity import classify_frames
from dsr.tracking.base import LABEL_MATCH, LOST_TRACK, THIN_BOX

if TYPE_CHECKING:
    import datasets

    from dsr.tracking.base import Tracker, TrackResult

__all__ = [
    "PROMPT_FIELDS",
    "REASONS",
    "SAMPLE_COLUMNS",
    "ScoreConfig",
    "build_sample",
    "current_row",
    "invalid_sample",
    "sample_features",
    "settings_struct",
    "sample_id",
]

#: Prompt fields copied into every sample row.
PROMPT_FIELDS = ("prompt", "scene", "animal", "object", "initial", "final", "dsr_type", "verb")

#: Reasons a sample is invalid, beyond the validity rules (too_many_redundant, too_few_valid,
#: no_valid_run) and the score's too_few_frames.
PROMPT_UNPARSABLE = "prompt_unparsable"
VIDEO_MISSING = "video_missing"
VIDEO_UNREADABLE = "video_unreadable"
VIDEO_EMPTY = "video_empty"
GENERATION_FAILED = "generation_failed"
TRACKING_FAILED = "tracking_failed"
REASONS = (
    "too_many_redundant",
    "too_few_valid",
    "no_valid_run",
    "too_few_frames",
    "no_annotations",
    PROMPT_UNPARSABLE,
    VIDEO_MISSING,
    VIDEO_UNREADABLE,
    VIDEO_EMPTY,
    GENERATION_FAILED,
    TRACKING_FAILED,
)

#: column → description: the schema of the ``samples`` config (and of the dataset card).
SAMPLE_COLUMNS: dict[str, str] = {
    "sample_id": "`<prompt_id>__seed<NN>`: unique id of the sample",
    "prompt_id": "id of the prompt in the `prompts` config",
    "split": "train or test (the prompt's split)",
    "seed": "generation seed; with the settings it alone reproduces the video",
    "prompt": "the prompt sentence given to the generator",
    "scene": "scene description of the prompt",
    "animal": "the moving animal",
    "object": "the static object",
    "initial": (
        "initial relation of the animal to the object (left, right, top; under, front, behind "
        "beyond the paper)"
    ),
    "final": "final relation",
    "dsr_type": (
        "DSR type code: the relations' letters in order (the paper's LT, TL, RT, LR, TR, RL; "
        "U under, F front, B behind; three letters for a three-stage prompt)"
    ),
    "verb": "motion verb of the prompt",
    "video": (
        "the generated video (mp4, h264; `datasets.Video`, embedded bytes); null if "
        "none could be read"
    ),
    "num_frames": "frames in the video (0 if it could not be read)",
    "fps": "frames per second",
    "height": "frame height in pixels",
    "width": "frame width in pixels",
    "generator": "generator name (wan, synthetic, file, ...)",
    "generator_settings": "JSON of the resolved generation settings",
    "tracker": "tracker name (annotations, grounded-sam2, sam3)",
    "tracker_settings": "JSON of the tracker's model ids and thresholds",
    "score_settings": "DSR-Score settings {m, min_frames, box_check} (a struct)",
    "encode_settings": (
        "how the mp4 was encoded from the frames {codec, crf, preset, pix_fmt} (a struct); null "
        "when the mp4 was stored as given"
    ),
    "animal_boxes": "per frame the animal's box [x1, y1, x2, y2] in pixels; four NaN where absent, "
    "so that every row is a float array of shape (frames, 4) (`Array2D`; e.g. "
    "`ds.with_format('numpy')`), (0, 4) for a sample without a readable video (0 frames)",
    "object_boxes": "per frame the object's box; four NaN where absent",
    "animal_present": (
        "per frame whether the animal has a box (false exactly where `animal_boxes` is NaN)"
    ),
    "object_present": "per frame whether the object has a box",
    "frame_classes": "per frame valid / miss / redundant (from the detections)",
    "detections": (
        "per frame every detector output {label, box [x1, y1, x2, y2], score}, so validity can be "
        "re-decided without re-running the detector (empty for trackers without a detector)"
    ),
    "animal_depth": (
        "per frame the median over the animal's mask of the frame's relative distance (0 the "
        "nearest pixel, 1 the farthest; null where the mask is absent or there is no depth); null "
        "for a sample whose relations need no depth (only front and behind do)"
    ),
    "object_depth": "per frame the same for the object",
    "occlusion": (
        "per frame +1 where the animal occludes the object, -1 where the object occludes the "
        "animal, 0 where neither is seen; null for a sample whose relations need no depth"
    ),
    "ssr_initial": "per frame SSR score for the initial relation (null where unusable)",
    "ssr_final": "per frame SSR score for the final relation (null where unusable)",
    "valid": (
        "whether the sample is valid (invalid samples count as failures and never enter pairs)"
    ),
    "reason": "why the sample is invalid (null when valid)",
    "reason_detail": "human-readable detail of the reason (null when valid)",
    "key_frame": "first frame of the first run of valid frames (null when invalid)",
    "n_valid_frames": "frames classified valid",
    "n_miss_frames": "frames classified miss",
    "n_redundant_frames": "frames classified redundant",
    "n_usable_frames": "frames with both boxes usable for the score",
    "n_degenerate_frames": (
        "frames left out of the score because a box was given with zero or negative width or height"
    ),
    "dsr_score": "DSR-Score in [0, 1] (null when invalid)",
    "r_init": "mean initial-relation SSR over the first m usable frames",
    "r_final": "mean final-relation SSR over the last m usable frames",
    "g_init": "half the drop of the initial-relation SSR from first to last usable frame",
    "g_final": "half the rise of the final-relation SSR from first to last usable frame",
    "deviations": (
        "rules of ours beyond the authors' code that changed this sample's frame classes, boxes "
        "or usable frames: label_match (normalized labels), lost_track (dropped frame-filling "
        "masks), thin_box (zero-height boxes left out); and those that applied to it, whose "
        "effect only a second run could tell: input_frames (frames not through the authors' mp4 "
        "and JPEG files), autocast (CUDA without bf16 autocast), sam2_state (backward SAM2 pass "
        "in the forward pass's session). Empty when the authors' code would give the same "
        "(build with --paper-exact)"
    ),
    "notes": (
        "JSON of tracker notes (label normalization, frames it changed, lost tracks, "
        "scenario, errors)"
    ),
}


def sample_id(prompt_id: str, seed: int) -> str:
    return f"{prompt_id}__seed{int(seed):02d}"


_ARROW_TYPES = {int: "int64", float: "float64", str: "string", bool: "bool"}


def settings_struct(cls: type) -> dict[str, Any]:
    """The ``datasets`` struct of a flat settings dataclass: one typed field per dataclass field, so
    that the struct follows the config when a field is added."""
    from datasets import Value

    hints = typing.get_type_hints(cls)
    out = {}
    for f in fields(cls):
        hint = hints[f.name]
        if typing.get_origin(hint) in (Union, types.UnionType):  # `int | None` is stored as int64
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        if hint not in _ARROW_TYPES:
            raise TypeError(
                f"{cls.__name__}.{f.name}: type {hint} has no column type; use int, "
                "float, str or bool"
            )
        out[f.name] = Value(_ARROW_TYPES[hint])
    return out


def sample_features() -> datasets.Features:
    """The ``datasets`` features of a samples row (video bytes embedded)."""
    from datasets import Array2D, Features, List, Value, Video

    # declared (frames, 4), so that datasets gives a (0, 4) array for 0 frames too; stored as a list
    # of fixed-size lists (dsr.builders.folder.stored_features): polars reads list[array[f64, 4]]
    boxes = Array2D(shape=(None, 4), dtype="float64")
    text = {
        c: Value("string")
        for c in (
            "sample_id",
            "prompt_id",
            "split",
            *PROMPT_FIELDS,
            "generator",
            "generator_settings",
            "tracker",
            "tracker_settings",
            "reason",
            "reason_detail",
            "notes",
        )
    }
    ints = {
        c: Value("int64")
        for c in (
            "seed",
            "num_frames",
            "fps",
            "height",
            "width",
            "key_frame",
            "n_valid_frames",
            "n_miss_frames",
            "n_redundant_frames",
            "n_usable_frames",
            "n_degenerate_frames",
        )
    }
    floats = {c: Value("float64") for c in ("dsr_score", "r_init", "r_final", "g_init", "g_final")}
    detection = {
        "label": Value("string"),
        "box": List(Value("float64"), length=4),
        "score": Value("float64"),
    }
    seqs = {
        "animal_boxes": boxes,
        "object_boxes": boxes,
        "frame_classes": List(Value("string")),
        "animal_present": List(Value("bool")),
        "object_present": List(Value("bool")),
        "detections": List(List(detection)),
        "ssr_initial": List(Value("float64")),
        "ssr_final": List(Value("float64")),
        "animal_depth": List(Value("float64")),
        "object_depth": List(Value("float64")),
        "occlusion": List(Value("float64")),
        "deviations": List(Value("string")),
    }
    settings = {
        "score_settings": settings_struct(ScoreConfig),
        "encode_settings": settings_struct(EncodeConfig),
    }
    extra = {"video": Video(), "valid": Value("bool")}
    spec = {**text, **ints, **floats, **seqs, **settings, **extra}
    return Features({c: spec[c] for c in SAMPLE_COLUMNS})


ABSENT_BOX = [math.nan] * 4


def _boxes(arr: np.ndarray) -> tuple[list[list[float]], list[bool]]:
    """Per frame the box as four floats (four NaN where absent or not finite) and its presence."""
    rows = np.asarray(arr, dtype=float).reshape(-1, 4)
    present = np.isfinite(rows).all(axis=1)
    return np.where(present[:, None], rows, np.nan).tolist(), present.tolist()


def _legacy_boxes(boxes: list[Any] | None) -> tuple[list[list[float]], list[bool]]:
    """Boxes of a row written before format 2 (null where absent)."""
    return _boxes(np.array([ABSENT_BOX if b is None else b for b in boxes or []], dtype=float))


def _legacy_degenerate(row: Mapping[str, Any]) -> int:
    """``n_degenerate_frames`` of a row written before it was counted, from its boxes."""
    animal, obj = (
        np.asarray(row[k] or [], dtype=float).reshape(-1, 4)
        for k in ("animal_boxes", "object_boxes")
    )
    if len(animal) != len(obj):
        return 0
    return int(degenerate_mask(animal, obj).sum())


def _legacy_deviations(row: Mapping[str, Any]) -> list[str]:
    """``deviations`` of a row written before they were recorded (always with normalized labels and
    the lost-track rule), from what it holds: the frames whose class exact matching of its
    detection labels would change, and the lost tracks in its notes."""
    out = []
    labels = [[d["label"] for d in frame] for frame in row.get("detections") or []]
    animal, obj = row.get("animal"), row.get("object")
    if (
        labels
        and animal
        and obj
        and classify_frames(labels, str(animal), str(obj)).label_match_frames
    ):
        out.append(LABEL_MATCH)
    if "lost_track_frames" in json.loads(row.get("notes") or "{}"):
        out.append(LOST_TRACK)
    return out


def current_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` in the current schema. Rows committed to a work area by an older dsr hold null for
    an absent box, no presence flags and JSON text for the score and encode settings (before
    format 2), and no ``n_degenerate_frames`` or ``deviations`` (re-derived from the row); the merge
    and its summary pass every row through here, so an old work area still merges into a current
    dataset."""
    out = {k: row.get(k) for k in SAMPLE_COLUMNS}
    for who in ("animal", "object"):
        if out[f"{who}_present"] is None:
            out[f"{who}_boxes"], out[f"{who}_present"] = _legacy_boxes(out[f"{who}_boxes"])
    for key in ("score_settings", "encode_settings"):
        value = out[key]
        if isinstance(value, str):
            out[key] = json.loads(value) or None
    if isinstance(out["score_settings"], dict):  # rows from before box_check: the positive check
        out["score_settings"] = {"box_check": "positive", **out["score_settings"]}
    if out["n_degenerate_frames"] is None:
        out["n_degenerate_frames"] = _legacy_degenerate(out)
    if out["deviations"] is None:
        out["deviations"] = _legacy_deviations(out)
    return out


def _base_row(record: Mapping[str, Any], seed: int, split: str | None) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(SAMPLE_COLUMNS)
    pid = str(record.get("prompt_id") or "")
    row.update(
        sample_id=sample_id(pid, seed),
        prompt_id=pid,
        seed=int(seed),
        split=split or record.get("split") or "",
        num_frames=0,
        n_valid_frames=0,
        n_miss_frames=0,
        n_redundant_frames=0,
        n_usable_frames=0,
        n_degenerate_frames=0,
        animal_boxes=[],
        object_boxes=[],
        animal_present=[],
        object_present=[],
        frame_classes=[],
        detections=[],
        ssr_initial=[],
        ssr_final=[],
        deviations=[],
        notes="{}",
        generator_settings="{}",
        tracker_settings="{}",
        score_settings=None,
        encode_settings=None,
    )
    for key in PROMPT_FIELDS:
        value = record.get(key)
        row[key] = None if value is None else str(value.value if hasattr(value, "value") else value)
    return row


def invalid_sample(row: dict[str, Any], reason: str, detail: str) -> dict[str, Any]:
    """Mark ``row`` invalid (no score) with a reason code and a readable detail; returns it."""
    row.update(
        valid=False,
        reason=reason,
        reason_detail=detail,
        dsr_score=None,
        key_frame=None,
        r_init=None,
        r_final=None,
        g_init=None,
        g_final=None,
    )
    return row


def _prompt(record: Mapping[str, Any]) -> DSRPrompt:
    text = record.get("prompt")
    if not text:
        raise PromptParseError("the prompt record has no 'prompt' sentence")
    return parse_prompt(str(text))


@dataclass
class _Media:
    frames: np.ndarray | None = None
    fps: float = 0.0
    mp4: bytes | None = None
    annotations: Annotations | None = None
    error: tuple[str, str] | None = None


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise DataError(f"video file {path} does not exist")
    return path.read_bytes()


def _media(video: Any, encode: EncodeConfig | None) -> _Media:
    """Frames, fps and mp4 bytes from whatever the caller has."""
    if video is None:
        return _Media(error=(VIDEO_MISSING, "no video was given for this sample"))
    if isinstance(video, GeneratedVideo):
        return _Media(np.asarray(video.frames), float(video.fps), None, video.annotations)
    if isinstance(video, np.ndarray):
        raise ConfigError(
            "raw frames need a frame rate: wrap them in GeneratedVideo(frames, fps, seed)"
        )
    try:
        data = bytes(video) if isinstance(video, (bytes, bytearray)) else _read(Path(video))
        frames, fps = decode_video(data)
    except EmptyVideoError as exc:
        return _Media(error=(VIDEO_EMPTY, str(exc)))
    except (DataError, OSError) as exc:
        return _Media(error=(VIDEO_UNREADABLE, str(exc)))
    return _Media(frames, fps, data)


def build_sample(
    prompt_record: Mapping[str, Any],
    seed: int,
    video: GeneratedVideo | bytes | str | Path | None,
    tracker: Tracker,
    *,
    split: str | None = None,
    generator: str = "file",
    generator_settings: Mapping[str, Any] | None = None,
    encode: EncodeConfig | None = None,
    score: ScoreConfig | None = None,
) -> dict[str, Any]:
    """The ``samples`` row of one (prompt, seed); ``video`` holds ``{"bytes", "path"}`` or None.

    The tracker sees the frames as generated (a GeneratedVideo) or as decoded (bytes or a path).
    The row names no absolute local path (a checkpoint folder, a video file in an error message):
    those are cut to their last part, as in every published file.
    """
    row = _sample_row(
        prompt_record,
        seed,
        video,
        tracker,
        split=split,
        generator=generator,
        generator_settings=generator_settings,
        encode=encode,
        score=score,
    )
    from dsr.cards import mask_local_paths

    for key in ("generator_settings", "tracker_settings", "notes", "reason_detail"):
        if isinstance(row.get(key), str):
            row[key] = mask_local_paths(row[key])
    return row


def _sample_row(
    prompt_record: Mapping[str, Any],
    seed: int,
    video: GeneratedVideo | bytes | str | Path | None,
    tracker: Tracker,
    *,
    split: str | None,
    generator: str,
    generator_settings: Mapping[str, Any] | None,
    encode: EncodeConfig | None,
    score: ScoreConfig | None,
) -> dict[str, Any]:
    row = _base_row(prompt_record, seed, split)
    gen_settings = dict(
        generator_settings or (video.settings if isinstance(video, GeneratedVideo) else {})
    )
    row.update(
        generator=generator,
        generator_settings=json.dumps(gen_settings, sort_keys=True, default=str),
        tracker=getattr(tracker, "name", type(tracker).__name__),
        tracker_settings=json.dumps(tracker.settings(), sort_keys=True, default=str),
    )
    row["score_settings"] = asdict(score or ScoreConfig())
    media = _media(video, encode)
    if media.frames is not None:
        if media.mp4 is None:
            media.mp4 = encode_video(media.frames, int(round(media.fps)), encode)
            row["encode_settings"] = (encode or EncodeConfig()).to_dict()
        t, h, w = media.frames.shape[:3]
        row.update(
            num_frames=int(t),
            fps=int(round(media.fps)),
            height=int(h),
            width=int(w),
            video={"bytes": media.mp4, "path": f"{row['sample_id']}.mp4"},
        )
    try:
        prompt = _prompt(prompt_record)
    except PromptParseError as exc:
        return invalid_sample(row, PROMPT_UNPARSABLE, f"the prompt no longer parses: {exc}")
    parsed = prompt.to_dict()
    row.update({k: parsed[k] for k in PROMPT_FIELDS if row[k] is None and k in parsed})
    if media.error is not None or media.frames is None:  # _media gives frames or the error
        return invalid_sample(row, *(media.error or (VIDEO_MISSING, "no frames were given")))
    try:
        result = tracker.track(media.frames, prompt, media.annotations)
    except (ConfigError, ModelLoadError):
        raise  # a setup problem, not this sample's: stop instead of marking every sample failed
    except DsrError as exc:
        return invalid_sample(row, TRACKING_FAILED, f"{type(exc).__name__}: {exc}")
    return _scored(row, prompt, result, score or ScoreConfig())


def _depth_inputs(result: TrackResult) -> DepthInputs | None:
    """The tracked depth evidence as the DSR-Score reads it (None when nothing was tracked)."""
    d = result.depth
    if d is None:
        return None
    return DepthInputs.of(d.animal_depth, d.object_depth, d.occlusion)


def _scored(
    row: dict[str, Any], prompt: DSRPrompt, result: TrackResult, cfg: ScoreConfig
) -> dict[str, Any]:
    v = result.validity
    s = dsr_score(
        result.animal_boxes,
        result.object_boxes,
        prompt.initial,
        prompt.final,
        m=cfg.m,
        min_frames=cfg.min_frames,
        box_check=cfg.box_check,
        middle=prompt.middle,
        depth=_depth_inputs(result),
    )
    sd = s.to_dict()
    notes = dict(result.notes)
    if v.normalized_labels:
        notes["normalized_labels"] = v.normalized_labels
    if v.unmatched_labels:
        notes["unmatched_labels"] = list(v.unmatched_labels)
    if v.label_match_frames:
        notes["label_match_frames"] = list(v.label_match_frames)
    detections = [
        [
            {"label": d.label, "box": [float(c) for c in d.box], "score": float(d.score)}
            for d in frame
        ]
        for frame in (result.detections or ())
    ]
    row["animal_boxes"], row["animal_present"] = _boxes(result.animal_boxes)
    row["object_boxes"], row["object_present"] = _boxes(result.object_boxes)
    row.update(
        frame_classes=v.frame_class_names,
        detections=detections,
        ssr_initial=sd["ssr_initial"],
        ssr_final=sd["ssr_final"],
        n_valid_frames=v.n_valid,
        n_miss_frames=v.n_miss,
        n_redundant_frames=v.n_redundant,
        n_usable_frames=s.n_frames,
        n_degenerate_frames=s.n_degenerate_frames,
        notes=json.dumps(notes, sort_keys=True, default=str),
        deviations=list(result.deviations) + list(_score_deviations(result, cfg)),
    )
    if result.depth is not None:
        row.update(result.depth.columns())
    if not v.valid:
        detail = notes.get("error") or _validity_detail(
            v.reason, v.n_valid, v.n_miss, v.n_redundant
        )
        return invalid_sample(row, str(v.reason), str(detail))
    if not s.valid:
        degenerate = (
            f"; {s.n_degenerate_frames} frames had a box with zero or negative width or height"
            if s.n_degenerate_frames
            else ""
        )
        return invalid_sample(
            row,
            str(s.reason),
            f"only {s.n_frames} frames have both boxes usable (need {cfg.min_frames}){degenerate}",
        )
    row.update(
        valid=True,
        reason=None,
        reason_detail=None,
        key_frame=v.key_frame,
        dsr_score=s.score,
        r_init=s.r_init,
        r_final=s.r_final,
        g_init=s.g_init,
        g_final=s.g_final,
    )
    return row


def _score_deviations(result: TrackResult, cfg: ScoreConfig) -> tuple[str, ...]:
    """``("thin_box",)`` when our box check left out frames that the authors' checks keep."""
    if cfg.box_check == "authors" or not result.validity.valid:
        return ()
    animal, obj = (np.asarray(b, dtype=float) for b in (result.animal_boxes, result.object_boxes))
    kept = usable_mask(animal, obj, "authors") & ~usable_mask(animal, obj)
    return (THIN_BOX,) if kept.any() else ()


def _validity_detail(reason: str | None, n_valid: int, n_miss: int, n_red: int) -> str:
    counts = f"{n_valid} valid, {n_miss} miss, {n_red} redundant frames"
    text = {
        "too_many_redundant": "more redundant frames than allowed",
        "too_few_valid": "fewer valid frames than required",
        "no_valid_run": "no run of consecutive valid frames long enough for a key frame",
        "no_annotations": (
            "the video carries no annotations for the 'annotations' tracker; use a detector tracker"
        ),
    }.get(str(reason), str(reason))
    return f"{text} ({counts})"
