"""The report's mp4 files, from the bytes embedded in the samples config.

Copied by default. With ``link``, a video is hard-linked (a relative symlink across file systems)
to the mp4 that ``build-videos``/``score-videos`` left in the folder's work area, when that file
holds exactly the embedded bytes; other videos (a Hub dataset, a pruned work area) are copied.

A re-run reads the video bytes of a parquet file only when that file changed (name, size or
modification time) or one of its videos is missing from the report; a video is written only when
its digest differs from the one written before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsr.builders.folder import WORK_DIR
from dsr.report.files import ReportWriter, digest
from dsr.report.layout import VIDEO_FILE, file_key
from dsr.report.rows import iter_videos

__all__ = ["VideoResult", "write_videos"]


@dataclass
class VideoResult:
    """Which samples have a video in the report, and what this run did with the files."""

    with_video: set[str] = field(default_factory=set)
    written: int = 0
    linked: int = 0
    kept: int = 0
    bytes_written: int = 0


def _work_area_videos(root: Path) -> dict[str, Path]:
    """Sample id → the mp4 a build left in the work area (``.dsr/videos/<split>/shard-*/``)."""
    return {
        p.stem: p
        for p in (root / WORK_DIR / "videos").glob("*/shard-*/*.mp4")
        if not p.name.startswith(".")
    }


def _identity(path: Path, link: bool) -> dict[str, Any]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "link": link}


def _reusable(entry: dict[str, Any], identity: dict[str, Any], writer: ReportWriter) -> bool:
    if {k: entry.get(k) for k in identity} != identity:
        return False
    return all(
        (writer.out / VIDEO_FILE.format(key=file_key(sid))).exists()
        for sid, d in entry.get("videos", {}).items()
        if d
    )


def write_videos(
    writer: ReportWriter,
    root: Path,
    files: Iterable[Path],
    wanted: set[str],
    *,
    link: bool = False,
    tick: Callable[[int], object] = lambda n: None,
) -> VideoResult:
    """Write the videos of the ``wanted`` sample ids held in ``files`` (parquet files
    under ``root``); ``tick(n)`` is called as n more samples are done."""
    result = VideoResult()
    work = _work_area_videos(root) if link else {}
    for path in files:
        rel = path.relative_to(root).as_posix()
        identity = _identity(path, link)
        entry = writer.previous.sources.get(rel)
        if entry is not None and _reusable(entry, identity, writer):
            videos = {sid: d for sid, d in entry["videos"].items() if sid in wanted}
            for sid, d in videos.items():
                if d:
                    writer.keep(VIDEO_FILE.format(key=file_key(sid)))
                    result.with_video.add(sid)
                    result.kept += 1
            tick(len(videos))
        else:
            videos = _from_file(writer, path, wanted, work, result, tick)
        writer.current.sources[rel] = {**identity, "videos": videos}
    return result


def _previous_digests(writer: ReportWriter) -> dict[str, str]:
    return {
        sid: d
        for entry in writer.previous.sources.values()
        for sid, d in entry.get("videos", {}).items()
        if d
    }


def _same_file(path: Path, target: Path) -> bool:
    try:
        return path.samefile(target)
    except OSError:
        return False


def _from_file(
    writer: ReportWriter,
    path: Path,
    wanted: set[str],
    work: dict[str, Path],
    result: VideoResult,
    tick: Callable[[int], object],
) -> dict[str, str | None]:
    """Read the video bytes of one parquet file and write what changed; sample id → digest."""
    before = _previous_digests(writer)
    videos: dict[str, str | None] = {}
    for sid, data in iter_videos(path):
        if sid in wanted:
            videos[sid] = (
                None
                if data is None
                else _place(writer, sid, data, work.get(sid), before.get(sid), result)
            )
            tick(1)
    return videos


def _place(
    writer: ReportWriter,
    sid: str,
    data: bytes,
    work_file: Path | None,
    before: str | None,
    result: VideoResult,
) -> str:
    """Link, keep or write the video of one sample; returns its digest."""
    rel = VIDEO_FILE.format(key=file_key(sid))
    d = digest(data)
    result.with_video.add(sid)
    if work_file is not None and _same_file(writer.out / rel, work_file):
        writer.keep(rel)
        result.kept += 1
    elif (
        work_file is not None
        and work_file.stat().st_size == len(data)
        and digest(work_file.read_bytes()) == d
    ):
        writer.link(rel, work_file)
        result.linked += 1
    elif before == d and (writer.out / rel).is_file() and not (writer.out / rel).is_symlink():
        writer.keep(rel)
        result.kept += 1
    else:
        writer.write(rel, data)
        result.written += 1
        result.bytes_written += len(data)
    return d
