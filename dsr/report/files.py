"""Writing the report folder: only what changed, atomically, and a manifest of what was written.

The manifest (:data:`~dsr.report.layout.MANIFEST`) lists every file the report wrote, so a re-run
removes the files of samples that are gone and never touches a file it did not write, and per
source parquet file the digests of the videos taken from it, so a re-run does not read the video
bytes of a file that has not changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsr.errors import ConfigError
from dsr.report.layout import LOCK, MANIFEST

__all__ = ["MANIFEST_FORMAT", "Manifest", "ReportWriter", "digest", "js_assignment"]

#: Version of the manifest; another version makes a re-run rewrite everything.
MANIFEST_FORMAT = 1


def digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def js_assignment(target: str, value: Any) -> str:
    """A script that stores ``value`` (strict JSON) at ``window.DSR_DATA.<target>``; ``target`` is
    ``name`` or ``name["key"]``."""
    head = target.split("[", 1)[0]
    body = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    prefix = "window.DSR_DATA=window.DSR_DATA||{};"
    if "[" in target:
        prefix += f"DSR_DATA.{head}=DSR_DATA.{head}||{{}};"
    return f"{prefix}DSR_DATA.{target}={body};\n"


def _replace(path: Path, data: bytes) -> None:
    """Write through a temporary file and rename (no fsync: a report is cheap to write again, and a
    killed run leaves the old file or the new one, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class Manifest:
    """What the last run wrote: relative paths, per source file its video digests, the stamp of
    its inputs and what it reported (so an unchanged re-run can say it again without reading)."""

    files: list[str] = field(default_factory=list)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    stamp: str = ""
    summary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, out: Path) -> Manifest:
        try:
            raw = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict) or raw.get("format") != MANIFEST_FORMAT:
            return cls()
        return cls(
            list(raw.get("files", [])),
            dict(raw.get("sources", {})),
            str(raw.get("stamp", "")),
            dict(raw.get("summary", {})),
        )

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "format": MANIFEST_FORMAT,
                    "files": sorted(self.files),
                    "sources": self.sources,
                    "stamp": self.stamp,
                    "summary": self.summary,
                },
                indent=1,
                sort_keys=True,
            )
            + "\n"
        )

    def complete(self, out: Path) -> bool:
        """Whether every file it lists is still there."""
        return bool(self.files) and all((out / rel).exists() for rel in self.files)


@dataclass
class ReportWriter:
    """Writes files under ``out`` when their content differs from what is there, and counts."""

    out: Path
    previous: Manifest = field(default_factory=Manifest)
    current: Manifest = field(default_factory=Manifest)
    written: list[str] = field(default_factory=list)
    unchanged: int = 0

    @classmethod
    def open(cls, out: Path) -> ReportWriter:
        """A writer for ``out``; refuses a folder with other files that is not a report's."""
        if (
            out.is_dir()
            and not (out / MANIFEST).exists()
            and any(p.name != LOCK for p in out.iterdir())
        ):
            raise ConfigError(
                f"--out {out} holds files that are not a dsr report: choose a new or empty folder "
                f"(a report's folder is recognized by its {MANIFEST})"
            )
        out.mkdir(parents=True, exist_ok=True)
        return cls(out, Manifest.read(out))

    def write(self, rel: str, data: bytes | str) -> bool:
        """Write ``rel`` unless it already holds ``data``; returns whether it wrote."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        path = self.out / rel
        self.current.files.append(rel)
        with contextlib.suppress(OSError):
            if (
                path.stat().st_size == len(raw)
                and not path.is_symlink()
                and path.read_bytes() == raw
            ):
                self.unchanged += 1
                return False
        _replace(path, raw)
        self.written.append(rel)
        return True

    def keep(self, rel: str) -> None:
        """``rel`` stays as it is (e.g. a video whose digest is unchanged)."""
        self.current.files.append(rel)
        self.unchanged += 1

    def link(self, rel: str, target: Path) -> str:
        """Hard-link ``rel`` to ``target`` (a relative symlink across file systems); returns how."""
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.link.tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(target, tmp)
            how = "hardlink"
        except OSError:
            os.symlink(os.path.relpath(target.resolve(), path.parent.resolve()), tmp)
            how = "symlink"
        os.replace(tmp, path)
        self.current.files.append(rel)
        self.written.append(rel)
        return how

    def finish(self) -> list[str]:
        """Remove the files the previous run wrote and this one did not; write the manifest.
        Returns the removed paths."""
        keep = set(self.current.files)
        removed = [rel for rel in self.previous.files if rel not in keep and _inside(self.out, rel)]
        for rel in removed:
            (self.out / rel).unlink(missing_ok=True)
        text = self.current.to_json()
        if (self.out / MANIFEST).exists() and (self.out / MANIFEST).read_text(
            encoding="utf-8"
        ) == text:
            return removed
        _replace(self.out / MANIFEST, text.encode("utf-8"))
        return removed


def _inside(out: Path, rel: str) -> bool:
    """Whether ``rel`` names a path inside ``out`` (a hand-edited manifest cannot
    delete elsewhere)."""
    target = os.path.normpath(out / rel)
    return target.startswith(os.path.normpath(out) + os.sep)
