"""Score per-sample tracks read from parquet or JSONL (the input of ``dsr score``).

One row per sample. Required: the per-frame boxes ``animal_boxes`` and ``object_boxes`` (lists of
``[x1, y1, x2, y2]``; null or four NaN for an absent frame) and the relations, either as prompt
fields ``initial`` and ``final`` (animal/object optional) or as the prompt sentence in ``prompt``.
For a prompt whose relations need depth (``front``, ``behind``; docs/method.md §8) the row also
carries the per-frame lists ``animal_depth`` and ``object_depth`` (floats in [0, 1], null or NaN
where unknown) and optionally ``occlusion`` (−1, 0 or +1 per frame; null as 0); a three-stage row
names its middle relation in ``middle`` (or in its prompt sentence).
Optional: ``sample_id``, ``prompt_id``, ``seed``, ``valid``/``reason`` from a tracker (a row marked
invalid stays invalid), and per-frame presence flags ``animal_present``/``object_present`` as the
``samples`` config stores them (a frame flagged false is absent whatever its box holds). A
``samples`` parquet file is valid input. A malformed row is reported with its row number and field,
and the other rows are still scored; past ``max_errors`` malformed rows the input is refused as a
whole (:class:`TooManyRowErrors`), so a large file of garbage stops early with a summary instead of
a wall of errors. A file that is not what its suffix says (binary, not UTF-8, a corrupt parquet) is
refused before any row is read. Scores are written as JSONL, parquet or CSV (``OUTPUT_SUFFIXES``).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dsr.errors import ConfigError, DataError, PromptParseError
from dsr.fileio import check_text_head
from dsr.prompts import DSRType, Relation, parse_prompt
from dsr.scoring.correctness import CorrectnessCurve, correctness
from dsr.scoring.dsr_score import DEFAULT_M, DEFAULT_MIN_FRAMES, dsr_scores
from dsr.scoring.relations import DEPTH_COLUMNS, DepthInputs
from dsr.staging import remove_stale_temp_files, temp_prefix

__all__ = [
    "DEFAULT_MAX_ERRORS",
    "OUTPUT_SUFFIXES",
    "ScoreReport",
    "TooManyRowErrors",
    "check_output_suffix",
    "read_tracks",
    "score_rows",
    "write_rows",
]

#: Malformed rows tolerated before the whole input is refused.
DEFAULT_MAX_ERRORS = 100
#: Output formats of :func:`write_rows`, by suffix.
OUTPUT_SUFFIXES = (".jsonl", ".parquet", ".csv")
_FIX = "give JSONL (one JSON object per line) or a .parquet file"


class TooManyRowErrors(DataError):
    """More malformed rows than allowed: the input is probably not a tracks file at all."""


_KEEP = ("sample_id", "prompt_id", "seed", "prompt", "animal", "object", "initial", "final")


@dataclass(frozen=True)
class ScoreReport:
    rows: list[dict[str, Any]]
    errors: list[str]
    curve: CorrectnessCurve

    def degenerate(self) -> tuple[int, int]:
        """(frames, samples) with a degenerate box: given, but with zero or negative width or
        height (left out of the score like an absent box; each row says how many in
        ``n_degenerate_frames``)."""
        counts = [int(r.get("n_degenerate_frames") or 0) for r in self.rows]
        return sum(counts), sum(1 for c in counts if c)


def read_tracks(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | DataError]]:
    """Yield (row number, row) pairs; a row that cannot be read is yielded as a DataError.

    Row numbers start at 1: the row index of a parquet file, the line number of a JSONL file
    (blank lines are skipped but counted, so the number points at the line to fix). A file that is
    binary, not UTF-8, or a corrupt parquet raises a DataError before the first row.
    """
    src = Path(path)
    if not src.exists():
        raise DataError(f"tracks file {src} does not exist")
    if src.suffix.lower() == ".parquet":
        yield from _parquet_rows(src)
        return
    check_text_head(src, "a JSONL tracks file", _FIX)
    with src.open("rb") as fh:
        for i, raw in enumerate(fh, start=1):
            row = _jsonl_row(i, raw.removeprefix(b"\xef\xbb\xbf") if i == 1 else raw)
            if row is not None:
                yield i, row


def _jsonl_row(i: int, raw: bytes) -> dict[str, Any] | DataError | None:
    """One JSONL line as a row, a DataError naming what is wrong with it, or None when blank."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return DataError(
            f"row {i}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
        )
    if not line.strip():
        return None
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        return DataError(f"row {i}: not valid JSON ({exc.msg}, column {exc.colno})")
    if not isinstance(row, dict):
        return DataError(f"row {i}: expected a JSON object, got {type(row).__name__}")
    return row


def _parquet_rows(src: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of a parquet file, a batch at a time; a corrupt file is one DataError naming it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    number = 0
    try:
        for batch in pq.ParquetFile(src).iter_batches(batch_size=1024):
            for row in batch.to_pylist():
                number += 1
                yield number, row
    except (pa.ArrowException, OSError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        where = f" after row {number}" if number else ""
        raise DataError(
            f"{src} is not a readable parquet file ({first}){where}: write it again, or {_FIX}"
        ) from None


def _boxes(row: dict[str, Any], key: str, where: str) -> np.ndarray:
    value = row.get(key)
    if not isinstance(value, (list, tuple)) or not value:
        raise DataError(
            f"{where}: field {key!r} must be a non-empty list of [x1, y1, x2, y2] or null"
        )
    out = np.full((len(value), 4), np.nan)
    for j, box in enumerate(value):
        if box is None:
            continue
        if not isinstance(box, (list, tuple)) or len(box) != 4:
            raise DataError(
                f"{where}: field {key!r} frame {j} is {box!r}, not [x1, y1, x2, y2] or null"
            )
        try:
            out[j] = [math.nan if v is None else float(v) for v in box]
        except (TypeError, ValueError):
            raise DataError(
                f"{where}: field {key!r} frame {j} has a non-numeric value {box!r}"
            ) from None
    return out


def _present(row: dict[str, Any], who: str, boxes: np.ndarray, where: str) -> np.ndarray:
    """``boxes`` with the frames whose ``<who>_present`` flag is false made absent (NaN)."""
    flags = row.get(f"{who}_present")
    if flags is None:
        return boxes
    if not isinstance(flags, (list, tuple)) or len(flags) != len(boxes):
        raise DataError(
            f"{where}: field '{who}_present' must list one flag per frame of '{who}_boxes' "
            f"({len(boxes)})"
        )
    out = boxes.copy()
    out[~np.array([bool(f) for f in flags], dtype=bool)] = np.nan
    return out


def _relations(row: dict[str, Any], where: str) -> tuple[Relation, Relation | None, Relation]:
    """The row's (initial, middle, final) relations: from the fields when either of initial and
    final is given, else from the prompt sentence. They must form a DSR type (middle None for the
    two-stage types)."""
    middle: Relation | None = None
    if row.get("initial") is not None or row.get("final") is not None:
        for key in ("initial", "final"):
            if row.get(key) in (None, ""):
                raise DataError(
                    f"{where}: field {key!r} is missing (give both relations or neither)"
                )
        fields = ("initial", row["initial"]), ("final", row["final"])
        initial, final = (_coerce(value, key, where) for key, value in fields)
        if row.get("middle") not in (None, ""):
            middle = _coerce(row["middle"], "middle", where)
    elif row.get("prompt"):
        try:
            parsed = parse_prompt(row["prompt"])
        except PromptParseError as exc:
            raise DataError(f"{where}: field 'prompt': {exc}") from None
        initial, middle, final = parsed.initial, parsed.middle, parsed.final
    else:
        raise DataError(f"{where}: needs the fields 'initial' and 'final' or a 'prompt' sentence")
    try:
        DSRType(r for r in (initial, middle, final) if r is not None)
    except PromptParseError as exc:
        raise DataError(f"{where}: field 'final': {exc}") from None
    return initial, middle, final


def _per_frame(row: dict[str, Any], key: str, n: int, where: str) -> np.ndarray | None:
    """A per-frame list of numbers (null as NaN), or None when the row has no such field."""
    value = row.get(key)
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise DataError(f"{where}: field {key!r} must list one number per frame ({n})")
    try:
        return np.array([math.nan if v is None else float(v) for v in value], dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{where}: field {key!r} has a non-numeric value") from None


def _depth(
    row: dict[str, Any], relations: tuple[Relation, Relation | None, Relation], n: int, where: str
) -> DepthInputs | None:
    """The row's depth inputs; required when its relations need depth."""
    values = [_per_frame(row, key, n, where) for key in DEPTH_COLUMNS]
    dsr_type = DSRType(r for r in relations if r is not None)
    if values[0] is None or values[1] is None:
        if dsr_type.needs_depth:
            raise DataError(
                f"{where}: DSR type {dsr_type.code} needs per-frame depth: give the fields "
                "'animal_depth' and 'object_depth' (and 'occlusion'), as a tracker run with a "
                "depth model writes them (docs/method.md §8)"
            )
        return None
    return DepthInputs.of(values[0], values[1], values[2])


def _coerce(value: Any, key: str, where: str) -> Relation:
    try:
        return Relation.coerce(value)
    except PromptParseError as exc:
        raise DataError(f"{where}: field {key!r}: {exc}") from None


def _parsed(number: int, row: dict[str, Any]) -> _Parsed:
    where = f"row {number}"
    animal = _present(row, "animal", _boxes(row, "animal_boxes", where), where)
    obj = _present(row, "object", _boxes(row, "object_boxes", where), where)
    if len(animal) != len(obj):
        raise DataError(
            f"{where}: 'animal_boxes' has {len(animal)} frames but 'object_boxes' {len(obj)}"
        )
    seed = row.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise DataError(f"{where}: field 'seed' is {seed!r}, not an integer (or leave it out)")
    relations = _relations(row, where)
    return _Parsed(row, animal, obj, relations, _depth(row, relations, len(animal), where))


@dataclass(frozen=True)
class _Parsed:
    """A well-formed row: the row, its animal and object boxes (N, 4), its (initial, middle,
    final) relations and its depth inputs (None when it has none)."""

    row: dict[str, Any]
    animal: np.ndarray
    obj: np.ndarray
    relations: tuple[Relation, Relation | None, Relation]
    depth: DepthInputs | None


def _too_many(errors: list[str], read: int, good: int) -> TooManyRowErrors:
    first = "; ".join(errors[:3])
    return TooManyRowErrors(
        f"stopped after {len(errors)} malformed rows of the first {read} read ({good} "
        f"well-formed), nothing written; first: {first}. Is this a tracks file? Fix the "
        "rows, or raise --max-errors"
    )


def score_rows(
    rows: Iterable[tuple[int, dict[str, Any] | DataError]],
    *,
    m: int = DEFAULT_M,
    min_frames: int = DEFAULT_MIN_FRAMES,
    max_errors: int | None = DEFAULT_MAX_ERRORS,
    box_check: str = "positive",
) -> ScoreReport:
    """Score all well-formed rows in one vectorized batch; collect the errors of the others.

    ``rows`` is consumed lazily: once more than ``max_errors`` rows are malformed, reading stops
    and :class:`TooManyRowErrors` summarizes them (None: no limit)."""
    good: list[_Parsed] = []
    errors: list[str] = []
    for read, (number, row) in enumerate(rows, start=1):
        try:
            if isinstance(row, DataError):
                raise row
            good.append(_parsed(number, row))
        except DataError as exc:
            errors.append(str(exc))
            if max_errors is not None and len(errors) > max_errors:
                raise _too_many(errors, read, len(good)) from None
    out = _score_batch(good, m, min_frames, box_check)
    return ScoreReport(out, errors, correctness([r["dsr_score"] for r in out]))


def _batch_depth(good: list[_Parsed], n: int) -> DepthInputs | None:
    """The rows' depth inputs as (B, n) arrays (NaN/0 where a row has none), or None if none has."""
    if all(g.depth is None for g in good):
        return None
    arrays = [np.full((len(good), n), np.nan), np.full((len(good), n), np.nan)]
    arrays.append(np.zeros((len(good), n)))
    for i, g in enumerate(good):
        if g.depth is not None:
            k = len(g.animal)
            arrays[0][i, :k], arrays[1][i, :k] = g.depth.animal_depth, g.depth.object_depth
            arrays[2][i, :k] = g.depth.occlusion
    return DepthInputs(*arrays)


def _score_batch(
    good: list[_Parsed], m: int, min_frames: int, box_check: str = "positive"
) -> list[dict[str, Any]]:
    if not good:
        return []
    n = max(len(g.animal) for g in good)
    animal = np.full((len(good), n, 4), np.nan)
    obj = np.full((len(good), n, 4), np.nan)
    for i, g in enumerate(good):
        animal[i, : len(g.animal)], obj[i, : len(g.obj)] = g.animal, g.obj
    middles = [g.relations[1] for g in good]
    batch = dsr_scores(
        animal,
        obj,
        [g.relations[0] for g in good],
        [g.relations[2] for g in good],
        m=m,
        min_frames=min_frames,
        box_check=box_check,
        middle=middles if any(middles) else None,
        depth=_batch_depth(good, n),
    )
    out = []
    for i, g in enumerate(good):
        row = g.row
        result = batch.item(i).to_dict()
        result["ssr_initial"] = result["ssr_initial"][: len(g.animal)]
        result["ssr_final"] = result["ssr_final"][: len(g.animal)]
        if row.get("valid") is False:  # the tracker already ruled this sample out
            result.update(score=None, valid=False, reason=row.get("reason") or "invalid_tracks")
        record = {k: row[k] for k in _KEEP if k in row}
        record.update(initial=g.relations[0].value, final=g.relations[2].value)
        if g.relations[1] is not None:
            record["middle"] = g.relations[1].value
        record.update({"dsr_score": result.pop("score"), **result})
        out.append(record)
    return out


def check_output_suffix(path: str | Path) -> Path:
    """Refuse an output name whose suffix is not one of ``OUTPUT_SUFFIXES``."""
    out = Path(path)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ConfigError(
            f"--out {out}: cannot write {out.suffix or 'files without a suffix'}; "
            f"name it *{', *'.join(OUTPUT_SUFFIXES)}"
        )
    return out


def _csv_cell(value: Any) -> Any:
    """Lists and dicts as JSON text, None as an empty cell, other values as they are."""
    if value is None:
        return ""
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def _write_csv(rows: list[dict[str, Any]], keys: list[str], tmp: Path) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _csv_cell(row.get(k)) for k in keys} for row in rows)
    tmp.write_text(buffer.getvalue(), encoding="utf-8")


def write_rows(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Write rows as JSONL, parquet or CSV (by suffix; lists as JSON text in CSV), atomically."""
    out = check_output_suffix(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(out.parent)  # left by a killed run
    tmp = out.with_name(temp_prefix(out.name) + "rows.tmp")  # per process: two never share one
    # every row gets every key (pyarrow's from_pylist takes its columns from the first row only)
    keys = list(dict.fromkeys(key for row in rows for key in row))
    try:
        if out.suffix.lower() == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(
                pa.Table.from_pylist([{k: row.get(k) for k in keys} for row in rows]), tmp
            )
        elif out.suffix.lower() == ".csv":
            _write_csv(rows, keys, tmp)
        else:
            tmp.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
