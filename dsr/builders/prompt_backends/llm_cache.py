"""On-disk cache of LLM responses, keyed by the request, so re-runs make no duplicate API calls.

One JSON file per request under the dataset folder's work area, written atomically. The key is the
sha256 of the canonical JSON of everything that determines the answer (endpoint, model, messages,
response format, sampling settings); credentials are never part of a request body and never stored.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from dsr.layout import atomic_write_text

__all__ = ["ResponseCache", "request_key"]


def request_key(request: dict[str, Any]) -> str:
    """The cache key of a request body."""
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """``<folder>/<key[:2]>/<key>.json`` holding the request and the response text."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        path = self._path(key)
        if not path.exists():
            return None
        try:
            return str(json.loads(path.read_text(encoding="utf-8"))["response"])
        except (ValueError, KeyError):  # a damaged entry is a miss; it is rewritten
            return None

    def put(self, key: str, request: dict[str, Any], response: str) -> None:
        entry = {"key": key, "request": request, "response": response}
        atomic_write_text(self._path(key), json.dumps(entry, ensure_ascii=False, indent=1) + "\n")
