"""The ``file`` backend: import an existing prompt list (e.g. the paper's test split).

Formats, by suffix:

* ``.txt``: one sentence per line; blank lines and ``#`` comments are skipped;
* ``.jsonl``: one object per line with ``prompt`` (or ``sentence``) and/or the fields ``scene``,
  ``animal``, ``object``, ``initial``, ``final``, ``verb`` (and optionally ``dsr_type``, ``split``);
* ``.csv`` / ``.tsv``: a header line naming the same columns.

A row's own id (a ``source_id``, ``prompt_id`` or ``id`` column, e.g. ``1043_TL`` in the authors'
``eval_csv/eval120.csv``) is kept in the ``source_id`` column, so that videos named after it can be
matched; our ``prompt_id`` stays the content id. When both a sentence and fields are given they
must agree. A row that cannot be read becomes a ``bad_row`` reject naming its line; the good rows
still go through. An empty file, a binary file and a file that is not UTF-8 text are errors naming
the file (and the first bad byte's line).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsr.builders.prompt_backends.base import BackendContext, Candidate
from dsr.errors import ConfigError, DataError
from dsr.fileio import read_text_file
from dsr.prompts import DSRType

__all__ = ["FileBackend", "FileBackendConfig"]

SUFFIXES = (".txt", ".jsonl", ".csv", ".tsv")
FIELD_COLUMNS = ("scene", "animal", "object", "initial", "final", "verb", "dsr_type")
REQUIRED_FIELDS = ("animal", "object", "initial", "final", "verb")
#: Columns that hold a row's own id, in order of preference.
ID_COLUMNS = ("source_id", "prompt_id", "id")
SPLITS = ("train", "test")


@dataclass(frozen=True)
class FileBackendConfig:
    """Settings of the file backend."""

    path: str = field(default="", metadata={"help": "Prompt list: .txt, .jsonl, .csv or .tsv."})

    def __post_init__(self) -> None:
        if not self.path:
            raise ConfigError(
                "the file backend needs a path: pass --input <prompts.csv|.jsonl|.txt>"
            )
        path = Path(self.path)
        if path.suffix.lower() not in SUFFIXES:
            raise ConfigError(
                f"{path}: unsupported suffix {path.suffix!r}; use one of {', '.join(SUFFIXES)}"
            )
        if not path.is_file():
            raise ConfigError(f"{path}: no such file")
        self.read()  # a binary or non-UTF-8 file is refused here, before a build claims its folder

    def read(self) -> str:
        """The whole file as text; a binary or non-UTF-8 file is a DataError naming it."""
        return read_text_file(
            self.path, "a prompt list", "use .csv, .tsv, .jsonl or .txt text saved as UTF-8"
        )


class FileBackend:
    """Reads every row once (``exhaustive``); the split column, if any, is kept as a hint."""

    name = "file"
    exhaustive = True
    config_class = FileBackendConfig

    def __init__(self, context: BackendContext) -> None:
        self.config = FileBackendConfig(**dict(context.options))
        self.path = Path(self.config.path)

    def source(self) -> str:
        return f"file:{self.path.name}"

    def generate(self, wanted: Mapping[DSRType, int], round_index: int) -> Iterator[Candidate]:
        if round_index > 0:
            return
        text = self.config.read()
        if not text.strip():
            raise DataError(f"{self.path}:1: empty file, no prompts to import")
        suffix = self.path.suffix.lower()
        rows = {".txt": self._txt, ".jsonl": self._jsonl}.get(suffix, self._table)(text)
        count = 0
        for candidate in rows:
            count += 1
            yield candidate
        if count == 0:
            raise DataError(
                f"{self.path}:1: no prompt rows (only a header, blank lines or comments)"
            )

    def _origin(self, line: int) -> str:
        return f"{self.path.name}:{line}"

    def _bad(self, line: int, message: str) -> Candidate:
        return Candidate(
            self.source(), self._origin(line), error=("bad_row", f"line {line}: {message}")
        )

    def _txt(self, text: str) -> Iterator[Candidate]:
        for line, raw in enumerate(text.splitlines(), start=1):
            if raw.strip() and not raw.lstrip().startswith("#"):
                yield Candidate(self.source(), self._origin(line), sentence=raw.strip())

    def _jsonl(self, text: str) -> Iterator[Candidate]:
        for line, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except ValueError as exc:
                yield self._bad(line, f"not valid JSON ({exc})")
                continue
            if not isinstance(data, dict):
                yield self._bad(line, f"expected a JSON object, got {type(data).__name__}")
                continue
            yield self._record(line, data)

    def _table(self, text: str) -> Iterator[Candidate]:
        delimiter = "\t" if self.path.suffix.lower() == ".tsv" else ","
        reader = csv.reader(text.splitlines(), delimiter=delimiter)
        header = [h.strip().lower() for h in next(reader, [])]
        if (
            "prompt" not in header
            and "sentence" not in header
            and not set(REQUIRED_FIELDS) <= set(header)
        ):
            raise DataError(
                f"{self.path}:1: the header {header} names neither a 'prompt' column nor "
                f"all of {', '.join(REQUIRED_FIELDS)}"
            )
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                yield self._bad(line, f"{len(row)} fields where the header has {len(header)}")
                continue
            yield self._record(line, dict(zip(header, row, strict=True)))

    def _record(self, line: int, data: Mapping[str, Any]) -> Candidate:
        sentence = data.get("prompt") or data.get("sentence")
        fields = {k: data[k] for k in FIELD_COLUMNS if data.get(k) not in (None, "")}
        split = str(data.get("split") or "").strip().lower() or None
        if split is not None and split not in SPLITS:
            return self._bad(line, f"split {split!r} is neither train nor test")
        if not sentence and not set(REQUIRED_FIELDS) <= set(fields):
            missing = [k for k in REQUIRED_FIELDS if k not in fields]
            return self._bad(line, f"no prompt sentence and missing {', '.join(missing)}")
        source_id = next(
            (str(data[k]).strip() for k in ID_COLUMNS if str(data.get(k) or "").strip()), None
        )
        return Candidate(
            self.source(),
            self._origin(line),
            sentence=str(sentence) if sentence else None,
            fields=fields or None,
            split=split,
            source_id=source_id,
        )
