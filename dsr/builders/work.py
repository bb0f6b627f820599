"""The per-sample work area of ``build-videos``: resumable, sharded, crash-safe.

Inside the dataset folder's never-uploaded work area::

    .dsr/videos/
    ├── <split>/
    │   ├── shard-00000-of-00002/          SHARD_DIR: one folder per shard (shared storage is fine)
    │   │   ├── <prompt_id>__seed00.mp4    the video, written first (atomic rename)
    │   │   └── <prompt_id>__seed00.json   the row without video bytes, written last: its presence
    │   │                                  marks the sample finished
    │   ├── shard-00000-of-00002.done      DONE_MARKER: the shard finished its whole slice
    │   ├── shard-00000-of-00002.lock      SHARD_LOCK: held by the process building that shard
    │   ├── split.lock                     SPLIT_GATE: held for a moment while a process claims a shard
    │   └── build.json                     BUILD_FILE: the split's resolved settings and command
    ├── consolidated.json                  MERGED_STAMP: fingerprint of the last finished merge
    └── consolidate.lock                   MERGE_LOCK: held while one process merges the shards

A kill -9 can only leave temporary files (``.*.tmp``, named for their process) or an mp4 without
its json; both are ignored and the sample is redone, and the next build or merge removes the
temporary files of dead processes. Finished samples are found across *all* shard
folders of a split, so a re-run with another shard count still skips them.

The locks are OS file locks (:func:`dsr.locks.exclusive_lock`): the kernel drops them when their
process dies, so a killed build never blocks the next one. A second process that would build the
same shard of a split, or the same split with another shard count, is refused at once; so is a
second merge of the same folder.

Work order: prompts are taken with their DSR types interleaved (:func:`work_order`), so the first
N prompts (``--limit``), every shard, and a build stopped half-way all hold every type.
"""  # noqa: E501

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsr.builders.folder import DatasetFolder
from dsr.errors import BusyError, ConfigError, DataError
from dsr.layout import atomic_write_bytes, atomic_write_text
from dsr.locks import exclusive_lock, lock_holder
from dsr.prompts import DSRType
from dsr.staging import remove_stale_temp_files

__all__ = ["ShardSpec", "WorkArea", "resolve_shard", "slice_items", "work_order"]

VIDEOS_DIR = "videos"
SHARD_DIR = "shard-{index:05d}-of-{count:05d}"
DONE_MARKER = SHARD_DIR + ".done"
SHARD_LOCK = SHARD_DIR + ".lock"
SPLIT_GATE = "split.lock"
MERGE_LOCK = "consolidate.lock"
_SHARD_LOCK_NAME = re.compile(r"shard-(\d+)-of-(\d+)\.lock")
BUILD_FILE = "build.json"
MERGED_STAMP = "consolidated.json"
#: The ``stage`` in the build record of a split made by ``score-videos`` (build-videos records
#: none): the two never mix in one split.
SCORED_STAGE = "score-videos"


@dataclass(frozen=True)
class ShardSpec:
    """This process's slice: shard ``index`` of ``count``; ``device_index`` from LOCAL_RANK."""

    index: int = 0
    count: int = 1
    device_index: int | None = None

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ConfigError(
                f"shard index {self.index} of {self.count} shards: need 0 ≤ index < "
                "count, count ≥ 1 (--shard-index, --num-shards)"
            )


def resolve_shard(
    num_shards: int | None = None,
    shard_index: int | None = None,
    environ: dict[str, str] | None = None,
) -> ShardSpec:
    """Explicit options win; otherwise RANK/WORLD_SIZE/LOCAL_RANK from torchrun or accelerate."""
    env = os.environ if environ is None else environ
    local = env.get("LOCAL_RANK")
    device = int(local) if local not in (None, "") else None
    if num_shards is not None or shard_index is not None:
        return ShardSpec(
            shard_index if shard_index is not None else 0,
            num_shards if num_shards is not None else 1,
            device,
        )
    if env.get("WORLD_SIZE"):
        return ShardSpec(int(env.get("RANK", "0")), int(env["WORLD_SIZE"]), device)
    return ShardSpec(0, 1, device)


def _type_rank(code: str) -> tuple[int, str]:
    """DSR types in the paper's order A–F, unknown codes after them."""
    codes = [t.code for t in DSRType]
    return (codes.index(code), "") if code in codes else (len(codes), code)


def work_order(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The prompts in the order a build takes them: one prompt of each DSR type in turn (types in
    the paper's order, each type's prompts by ``prompt_id``), then the second of each, and so on.

    Prompt ids start with their type code, so plain id order would give all LT prompts first: a
    ``--limit`` build would hold a single type, and so would a build stopped half-way.
    """
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for record in sorted(records, key=lambda r: str(r["prompt_id"])):
        groups.setdefault(str(record.get("dsr_type") or ""), []).append(record)
    ranked = [groups[code] for code in sorted(groups, key=_type_rank)]
    depth = max((len(g) for g in ranked), default=0)
    return [group[i] for i in range(depth) for group in ranked if i < len(group)]


def slice_items(
    items: Sequence[tuple[str, int]],
    shard: ShardSpec,
    *,
    whole_prompts: bool = False,
    kind: Callable[[str], str] | None = None,
) -> list[tuple[str, int]]:
    """Disjoint deterministic slice of the (prompt_id, seed) list, kept in the given order.

    Round robin over the items grouped by ``kind`` (the DSR type of a prompt id; one group without
    it): the shards differ by at most one item in all and in every type. (Round robin over the
    interleaved order itself would give each shard only some types whenever the shard count shares
    a factor with 6.) With ``whole_prompts`` the round robin is over prompts, so every seed of a
    prompt goes to the same shard and batches of seeds are formed as in a single-process build.
    """
    ordered = list(dict.fromkeys(items))
    units = list(dict.fromkeys(pid for pid, _ in ordered)) if whole_prompts else ordered
    group = kind or (lambda _pid: "")
    rank = {name: i for i, name in enumerate(dict.fromkeys(group(_pid(u)) for u in units))}
    by_group = sorted(
        units, key=lambda u: rank[group(_pid(u))]
    )  # stable: given order within a group
    mine = set(by_group[shard.index :: shard.count])
    return [item for item in ordered if (item[0] if whole_prompts else item) in mine]


def _pid(unit: str | tuple[str, int]) -> str:
    return unit if isinstance(unit, str) else unit[0]


def without_device(settings: Any) -> Any:
    """``settings`` without device placement (each rank of a distributed build has its own GPU)."""
    if isinstance(settings, dict):
        return {
            k: without_device(v) for k, v in settings.items() if k not in ("device", "device_index")
        }
    return settings


#: Settings added to components after builds may have recorded a recipe, with the value those
#: builds were made with: a record without the key means that value.
ADDED_SETTINGS: dict[str, dict[str, Any]] = {
    "tracker": {
        "label_match": "normalized",
        "input_frames": "raw",
        "autocast": "none",
        "sam2_state": "shared",
    },
    "score": {"box_check": "positive"},
    "generator": {
        "sampler": "unipc",
        "lora": None,
        "lora_scale": 1.0,
        "timestep_dtype": "float32",
    },
}


#: Settings added with a feature that builds recorded before it never used: a record without the
#: key agrees with whatever the current run sets (the trackers' depth options came with the front
#: and behind relations, which no earlier prompt could hold).
ADDED_UNUSED_SETTINGS: dict[str, tuple[str, ...]] = {
    "tracker": (
        "depth_source",
        "depth_model",
        "depth_revision",
        "depth_batch_size",
        "depth_settings",
    ),
}


def _with_added_settings(old: dict[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``old`` recorded settings with the :data:`ADDED_SETTINGS` and
    :data:`ADDED_UNUSED_SETTINGS` it predates filled in."""
    out = dict(old)
    for part in set(ADDED_SETTINGS) | set(ADDED_UNUSED_SETTINGS):
        if isinstance(out.get(part), dict) and isinstance(new.get(part), dict):
            added = ADDED_SETTINGS.get(part, {})
            fill = {k: v for k, v in added.items() if k in new[part] and k not in out[part]}
            for key in ADDED_UNUSED_SETTINGS.get(part, ()):
                if key in new[part] and key not in out[part]:
                    fill[key] = new[part][key]
            out[part] = {**out[part], **fill}
    return out


def _diff(old: Any, new: Any, path: str) -> str:
    """The first few differing leaves, e.g. ``generator.num_frames: 81 → 32``."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        return ", ".join(_diff(old.get(k), new.get(k), f"{path}.{k}") for k in keys[:3])
    return f"{path}: {old!r} → {new!r}"


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
        return atomic_write_text(
            out / f"{row['sample_id']}.json", json.dumps(record, sort_keys=True) + "\n"
        )

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
        if not path.is_file():
            return None
        return _read_json(
            path, "delete it and run the same build-videos command again: it is written anew"
        )

    def check_recipe(
        self,
        split: str,
        settings: Mapping[str, Any],
        keys: Sequence[str],
        besides: ShardSpec | None = None,
    ) -> None:
        """Refuse to mix samples made with other settings (the ``keys`` of the split's build
        record, devices aside) into ``split``: finished ones, or those that live shards other
        than ``besides`` are making right now."""
        previous = self.build_record(split)
        if previous is None or not (
            self.finished(split) or self.active_shards(split, besides=besides)
        ):
            return
        new = without_device(dict(settings))
        old = _with_added_settings(without_device(previous.get("settings", {})), new)
        changed = [k for k in keys if old.get(k) != new.get(k)]
        if changed:
            details = "; ".join(_diff(old.get(k), new.get(k), k) for k in changed)
            raise ConfigError(
                f"{self.root / split} holds (or is building) {split} samples made with other "
                f"{', '.join(changed)} settings ({details}): use another --out, or the options "
                "of that build"
            )

    def stamp(self, *extra: Any) -> str:
        """Fingerprint of every finished sample and build record (plus ``extra``): equal stamps
        mean a merge would write the same configs."""
        items: list[Any] = [list(extra)]
        for split in self.splits():
            items.append([split, self.build_record(split)])
            items.extend(
                (p.relative_to(self.root).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
                for p in self._json_files(split)
            )
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
            row = _read_json(
                path, "delete it (and its .mp4) and run build-videos again to redo that sample"
            )
            video = row.get("video")
            yield row, path, (path.parent / video["path"]) if video else None

    def mark_done(self, split: str, shard: ShardSpec) -> None:
        atomic_write_text(
            self.root / split / DONE_MARKER.format(index=shard.index, count=shard.count), "done\n"
        )

    def all_done(self, split: str, count: int) -> bool:
        return all(
            (self.root / split / DONE_MARKER.format(index=i, count=count)).exists()
            for i in range(count)
        )

    # -- locks ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def claim(self, split: str, shard: ShardSpec) -> Iterator[None]:
        """Hold ``shard`` of ``split`` for the block (see the module docstring), or raise
        :class:`BusyError` at once when a live process builds the same shard, or the split with
        another shard count. Claim before loading models: a refused run then costs nothing."""
        with contextlib.ExitStack() as held:
            with self.gate(split):
                for index, count, holder in self.active_shards(split):
                    if count != shard.count:
                        raise BusyError(
                            f"the {split} samples of {self.folder.root} are being built by "
                            f"{holder} as shard {index} of {count}: wait for it, or give this run "
                            f"--num-shards {count}"
                        )
                lock = self.root / split / SHARD_LOCK.format(index=shard.index, count=shard.count)
                what = (
                    f"shard {shard.index} of {shard.count} of the {split} samples of "
                    f"{self.folder.root}"
                )
                held.enter_context(exclusive_lock(lock, what))
            self.remove_leftovers(split)
            yield

    def remove_leftovers(self, split: str | None = None) -> list[Path]:
        """Delete the temporary files that killed runs left in the shard folders (of ``split``,
        or of every split); files of live processes stay."""
        removed: list[Path] = []
        for name in [split] if split else self.splits():
            for shard_dir in sorted((self.root / name).glob("shard-*-of-*")):
                removed += remove_stale_temp_files(shard_dir)
        return removed

    def gate(self, split: str) -> contextlib.AbstractContextManager[None]:
        """Held for a moment around claiming a shard of ``split`` and around checking and recording
        its settings, so that two processes never interleave those steps (waits, briefly)."""
        (self.root / split).mkdir(parents=True, exist_ok=True)
        return _waiting_lock(
            self.root / split / SPLIT_GATE, f"the {split} samples of {self.folder.root}"
        )

    def active_shards(
        self, split: str, besides: ShardSpec | None = None
    ) -> list[tuple[int, int, str]]:
        """(index, count, holder) of every shard of ``split`` that a live process is building now,
        ``besides`` this process's own."""
        out = []
        own = SHARD_LOCK.format(index=besides.index, count=besides.count) if besides else None
        for path in sorted((self.root / split).glob("shard-*-of-*.lock")):
            hit = _SHARD_LOCK_NAME.fullmatch(path.name)
            if hit and path.name != own and (holder := lock_holder(path)) is not None:
                out.append((int(hit[1]), int(hit[2]), holder))
        return out

    def merging(self) -> contextlib.AbstractContextManager[None]:
        """Hold the merge lock of the folder for the block, or raise :class:`BusyError` at once."""
        return exclusive_lock(self.root / MERGE_LOCK, f"the merge of {self.folder.root}")


def _read_json(path: Path, fix: str) -> dict[str, Any]:
    """A JSON object from the work area; a damaged file (truncated, not JSON) is a DataError
    naming it and ``fix``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path} is damaged ({type(exc).__name__}: {exc}): {fix}") from None
    if not isinstance(data, dict):
        raise DataError(f"{path} is damaged (not a JSON object): {fix}")
    return data


@contextlib.contextmanager
def _waiting_lock(path: Path, what: str, timeout: float = 60.0) -> Iterator[None]:
    """:func:`exclusive_lock`, waiting up to ``timeout`` seconds for a holder that keeps it only
    for a moment (the gate of a split)."""
    deadline = time.monotonic() + timeout
    with contextlib.ExitStack() as held:
        while True:
            try:
                held.enter_context(exclusive_lock(path, what))
                break
            except BusyError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield
