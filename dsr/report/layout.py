"""The report folder: a static site that opens from ``file://`` (no server, no network).

The layout, drawn once::

    <out>/
    ├── index.html                   OVERVIEW_PAGE: counts, validity, curves, histogram, settings,
    │                                pairs, eval results, problems met while writing
    ├── gallery.html                 GALLERY_PAGE: filterable, paginated cards (filters in the URL hash)
    ├── sample.html                  SAMPLE_PAGE: ``sample.html#id=<key>``, one page for every sample
    ├── pair.html                    PAIR_PAGE: ``pair.html#id=<pair key>``, winners and losers in sync
    ├── assets/                      ASSETS_DIR: the stylesheet and scripts (package data, copied)
    ├── data/
    │   ├── overview.js              OVERVIEW_DATA: ``DSR_DATA.overview = {...}``
    │   ├── index.js                 INDEX_DATA: one compact entry per sample (gallery, navigation)
    │   ├── pairs.js                 PAIRS_DATA: one entry per row of the ``pairs`` config
    │   ├── eval_results.json        EVAL_JSON: the evaluation shown, as ``dsr eval`` wrote it (linked)
    │   └── samples/<key>.js         SAMPLE_DATA: per-frame boxes, classes, detections, SSR curves
    ├── videos/<key>.mp4             VIDEO_FILE: the sample's mp4, copied from the embedded bytes
    │                                (or linked to the build's work area with ``--link-videos``)
    ├── .dsr-report.json             MANIFEST: what was written from what, so that a re-run
    │                                writes only what changed and removes only its own files
    └── .dsr-report.lock             LOCK: held by the run writing the report (a second is refused)

Data travels as ``.js`` files that assign to ``window.DSR_DATA``: browsers refuse ``fetch`` of
``file://`` URLs, but load classic scripts from them. ``<key>`` is the sample id when it is a safe
file name, else a slug of it plus a short hash (:func:`file_key`).
"""  # noqa: E501

from __future__ import annotations

import hashlib
import re

__all__ = [
    "ASSETS_DIR",
    "EVAL_JSON",
    "GALLERY_PAGE",
    "INDEX_DATA",
    "LOCK",
    "MANIFEST",
    "OVERVIEW_DATA",
    "OVERVIEW_PAGE",
    "PAGES",
    "PAIRS_DATA",
    "PAIR_PAGE",
    "SAMPLE_DATA",
    "SAMPLE_PAGE",
    "VIDEO_FILE",
    "file_key",
]

OVERVIEW_PAGE = "index.html"
GALLERY_PAGE = "gallery.html"
SAMPLE_PAGE = "sample.html"
PAIR_PAGE = "pair.html"
PAGES = (OVERVIEW_PAGE, GALLERY_PAGE, SAMPLE_PAGE, PAIR_PAGE)
ASSETS_DIR = "assets"
OVERVIEW_DATA = "data/overview.js"
INDEX_DATA = "data/index.js"
PAIRS_DATA = "data/pairs.js"
EVAL_JSON = "data/eval_results.json"
SAMPLE_DATA = "data/samples/{key}.js"
VIDEO_FILE = "videos/{key}.mp4"
MANIFEST = ".dsr-report.json"
LOCK = ".dsr-report.lock"

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def file_key(name: str) -> str:
    """A file-name-safe key for a sample or prompt id: the id itself when it is one (letters,
    digits, ``._-``, at most 100 characters, not starting with a dot), else a slug of it with the
    first 8 hex digits of its SHA-1, so two ids never share a key."""
    if _SAFE.fullmatch(name) and not name.endswith("."):
        return name
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:60] or "id"
    return f"{slug}-{hashlib.sha1(name.encode('utf-8')).hexdigest()[:8]}"
