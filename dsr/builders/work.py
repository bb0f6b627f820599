"""The per-sample work area of ``build-videos``: resumable, sharded, crash-safe.

Inside the dataset folder's never-uploaded work area::

    .dsr/videos/
    ├── <split>/
    │   ├── shard-00000-of-00002/          SHARD_DIR: one folder per shard (shared storage is fine)
    │   │   ├── <prompt_id>__seed00.mp4    the video, written first (atomic rename)
    │   │   └── <prompt_id>__seed00.json   the row without video bytes, written last: its presence
    │   │                                  marks the sample finished
    │   ├── shard-00000-of-00002.done      DONE_MARKER: the shard finished its whole slice
    │   └── build.json                     BUILD_FILE: the split's resolved settings and command
    ├── consolidated.json                  MERGED_STAMP: fingerprint of the last finished merge
    └── consolidate.lock                   held while one process merges the shards

A kill -9 can only leave temporary files (``.*.tmp``) or an mp4 without its json; both are ignored
and the sample is redone. Finished samples are found across *all* shard folders of a split, so a
re-run with another shard count still skips them.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsr.builders.folder import DatasetFolder, atomic_write_bytes, atomic_write_text
from dsr.errors import ConfigError

__all__ = ["ShardSpec", "WorkArea", "resolve_shard", "slice_items"]

VIDEOS_DIR = "videos"
SHARD_DIR = "shard-{index:05d}-of-{count:05d}"
DONE_MARKER = SHARD_DIR + ".done"
LOCK = "consolidate.lock"
BUILD_FILE = "build.json"
MERGED_STAMP = "consolidated.json"


@dataclass(frozen=True)
class ShardSpec:
    """This process's slice: shard ``index`` of ``count``; ``device_index`` from LOCAL_RANK."""

    index: int = 0
    count: int = 1
    device_index: int | None = None

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ConfigError(f"shard index {self.index} of {self.count} shards: need 0 ≤ index < count, count ≥ 1")


def resolve_shard(num_shards: int | None = None, shard_index: int | None = None,
                  environ: dict[str, str] | None = None) -> ShardSpec:
    """Explicit options win; otherwise RANK/WORLD_SIZE/LOCAL_RANK from torchrun or accelerate."""
    env = os.environ if environ is None else environ
    local = env.get("LOCAL_RANK")
    device = int(local) if local not in (None, "") else None
    if num_shards is not None or shard_index is not None:
        return ShardSpec(shard_index or 0, num_shards or 1, device)
    if env.get("WORLD_SIZE"):
        return ShardSpec(int(env.get("RANK", "0")), int(env["WORLD_SIZE"]), device)
    return ShardSpec(0, 1, device)


def slice_items(items: Sequence[tuple[str, int]], shard: ShardSpec, *, whole_prompts: bool = False
                ) -> list[tuple[str, int]]:
    """Disjoint deterministic slice of the sorted (prompt_id, seed) list.

    By default item ``j`` goes to shard ``j % count`` (round robin keeps the shards balanced).
    With ``whole_prompts`` every seed of a prompt goes to the same shard (prompt ``k`` to shard
    ``k % count``), so batches of seeds are formed exactly as in a single-process build.
    """
    ordered = sorted(set(items))
    if not whole_prompts:
        return ordered[shard.index :: shard.count]
    prompts = sorted({pid for pid, _ in ordered})
    mine = set(prompts[shard.index :: shard.count])
    return [item for item in ordered if item[0] in mine]


def _split_id(name: str) -> tuple[str, int]:
    prompt_id, _, seed = name.rpartition("__seed")
    return prompt_id, int(seed)


class WorkArea:
    """Reads and writes finished samples of one dataset folder."""

    def __init__(self, folder: DatasetFolder) -> None:
        self.folder = folder
        self.root = folder.work_dir(VIDEOS_DIR)

    def shard_dir(self, split: str, shard: ShardSpec) -> Path:
        path = self.root / split / SHARD_DIR.format(index=shard.index, count=shard.count)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def commit(self, split: str, shard: ShardSpec, row: dict[str, Any]) -> Path:
        """Write the sample's mp4 (if any), then its json row: the json is the commit."""
        out = self.shard_dir(split, shard)
        record = dict(row)
        video = record.pop("video", None)
        if video and video.get("bytes"):
            atomic_write_bytes(out / f"{row['sample_id']}.mp4", video["bytes"])
            record["video"] = {"path": f"{row['sample_id']}.mp4"}
        else:
            record["video"] = None
        return atomic_write_text(out / f"{row['sample_id']}.json", json.dumps(record, sort_keys=True) + "\n")

    def splits(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir())

    def _json_files(self, split: str) -> Iterator[Path]:
        for shard_dir in sorted((self.root / split).glob("shard-*-of-*")):
            if shard_dir.is_dir():
                yield from sorted(p for p in shard_dir.glob("*.json") if not p.name.startswith("."))

    def record_build(self, split: str, settings: dict[str, Any], command: str) -> None:
        """Store how the samples of ``split`` are made (shown in the card, checked on re-runs)."""
        text = json.dumps({"settings": settings, "command": command}, sort_keys=True, default=str)
        atomic_write_text(self.root / split / BUILD_FILE, text + "\n")

    def build_record(self, split: str) -> dict[str, Any] | None:
        path = self.root / split / BUILD_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def stamp(self, *extra: Any) -> str:
        """Fingerprint of every finished sample and build record (plus ``extra``): equal stamps
        mean a merge would write the same configs."""
        items: list[Any] = [list(extra)]
        for split in self.splits():
            items.append([split, self.build_record(split)])
            items.extend((p.relative_to(self.root).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
                         for p in self._json_files(split))
        return hashlib.sha1(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()

    def merged_stamp(self) -> str | None:
        path = self.root / MERGED_STAMP
        return path.read_text(encoding="utf-8").strip() if path.is_file() else None

    def mark_merged(self, stamp: str) -> None:
        atomic_write_text(self.root / MERGED_STAMP, stamp + "\n")

    def finished(self, split: str) -> set[tuple[str, int]]:
        """(prompt_id, seed) of every finished sample of ``split`` in any shard folder."""
        return {_split_id(p.stem) for p in self._json_files(split)}

    def rows(self, split: str) -> Iterator[tuple[dict[str, Any], Path, Path | None]]:
        """Each finished row once (first shard folder wins), with its json path and mp4 path."""
        seen: set[str] = set()
        for path in self._json_files(split):
            if path.stem in seen:
                continue
            seen.add(path.stem)
            row = json.loads(path.read_text(encoding="utf-8"))
            video = row.get("video")
            yield row, path, (path.parent / video["path"]) if video else None

    def mark_done(self, split: str, shard: ShardSpec) -> None:
        atomic_write_text(self.root / split / DONE_MARKER.format(index=shard.index, count=shard.count), "done\n")

    def all_done(self, split: str, count: int) -> bool:
        return all((self.root / split / DONE_MARKER.format(index=i, count=count)).exists() for i in range(count))

    def try_lock(self) -> bool:
        """Take the consolidation lock (False if a live process holds it). A lock left by a
        killed process on this host is broken; one from another host needs ``--merge-only``."""
        path = self.root / LOCK
        me = f"{socket.gethostname()}:{os.getpid()}"
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if not _stale(path):
                    return False
                path.unlink(missing_ok=True)
                continue
            os.write(fd, me.encode())
            os.close(fd)
            return True
        return False

    def unlock(self) -> None:
        (self.root / LOCK).unlink(missing_ok=True)


def _stale(lock: Path) -> bool:
    """Whether the lock's owner was a process on this host that no longer runs."""
    try:
        text = lock.read_text()
        if not text:  # killed between creating and writing it
            return time.time() - lock.stat().st_mtime > 10
        host, _, pid = text.partition(":")
        if host != socket.gethostname():
            return False
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (OSError, ValueError):
        return False  # unreadable or half-written: leave it to --merge-only
    return False
