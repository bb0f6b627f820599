"""Peak extra disk of the ``build-videos`` merge: the bytes that the dataset folder holds on top of
its work area while the work area is merged into ``samples``/``tracks``/``pairs``.

Two merges of the same work area in one run: dsr's (each parquet shard written from the work-area
files, one shard in memory) and the former one, kept here for the comparison (every row, videos
included, first staged as an Arrow copy by ``datasets.Dataset.from_generator``, then written as
parquet). A thread samples the folder's size (each inode counted once) every few milliseconds; the
peak minus the size before the merge is the figure. The required free space that the merge checks
before it starts is printed beside it.

    .venv/bin/python benchmarks/bench_merge_disk.py [--prompts 50] [--seeds 6]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from dsr.builders.consolidate import TRACK_COLUMNS, consolidate, merge_disk_need
from dsr.builders.folder import ConfigRecord, DatasetFolder
from dsr.builders.samples import SAMPLE_COLUMNS, build_sample, current_row, sample_features
from dsr.builders.work import ShardSpec, WorkArea
from dsr.generation.synthetic import SyntheticGenerator
from dsr.prompts import DSRPrompt, DSRType
from dsr.tracking.annotations import AnnotationTracker

#: Frames of the synthetic videos: small enough to build a few hundred on a CPU in a minute, large
#: enough that the videos are most of the bytes.
SIZE = {"num_frames": 33, "height": 128, "width": 192, "fps": 16}


def _tree_bytes(root: Path) -> int:
    seen, total = set(), 0
    for folder, _dirs, names in os.walk(root):
        for name in names:
            try:
                st = os.stat(os.path.join(folder, name))
            except FileNotFoundError:  # moved or deleted while walking
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


class PeakSize:
    """The largest size of ``root`` seen while the block runs, sampled every ``interval`` s."""

    def __init__(self, root: Path, interval: float = 0.005) -> None:
        self.root, self.interval, self.peak = root, interval, 0
        self._stop = threading.Event()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_bytes(self.root))
            time.sleep(self.interval)

    def __enter__(self) -> PeakSize:
        self.peak = _tree_bytes(self.root)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _tree_bytes(self.root))


def build_work_area(root: Path, n_prompts: int, n_seeds: int) -> WorkArea:
    gen, tracker = SyntheticGenerator(**SIZE, scenario="cycle"), AnnotationTracker()
    work = WorkArea(DatasetFolder(root))
    for i in range(n_prompts):
        t = list(DSRType)[i % 6]
        prompt = DSRPrompt("In a park", "fox", "stump", t.initial, t.final, "walks")
        record = {**prompt.to_dict(), "prompt_id": f"p{i:03d}", "split": "train"}
        for seed in range(n_seeds):
            video = gen.generate_one(prompt, seed)
            work.commit("train", ShardSpec(), build_sample(record, seed, video, tracker))
    return work


def _former_rows(files: list[tuple[str, str]]) -> Iterator[dict[str, Any]]:
    for json_path, mp4_path in files:
        row = json.loads(Path(json_path).read_text(encoding="utf-8"))
        if mp4_path:
            row["video"] = {"bytes": Path(mp4_path).read_bytes(), "path": Path(mp4_path).name}
        yield current_row(row)


def former_merge(folder: DatasetFolder, rows_per_shard: int) -> None:
    """The merge before streaming: an Arrow copy of every row staged, then the parquet files
    (written under other config names, so the two merges' outputs sit side by side)."""
    from datasets import Dataset, Value, Video

    from dsr.builders.folder import stored_features

    features = stored_features(sample_features())
    plain = features.copy()
    plain["video"] = {"bytes": Value("binary"), "path": Value("string")}
    found = sorted(
        (row["prompt_id"], int(row["seed"]), str(js), str(mp4) if mp4 else "")
        for row, js, mp4 in WorkArea(folder).rows("train")
    )
    files = [(js, mp4) for *_, js, mp4 in found]
    with folder.staging("cache") as cache:
        ds = Dataset.from_generator(
            _former_rows, features=plain, gen_kwargs={"files": files}, cache_dir=str(cache)
        ).cast_column("video", Video())
        folder.write_config(
            "former-samples",
            {"train": ds},
            ConfigRecord("former merge", dict(SAMPLE_COLUMNS)),
            max_rows_per_shard=rows_per_shard,
        )
        tracks = ConfigRecord("former merge", dict(TRACK_COLUMNS))
        folder.write_config("former-tracks", {"train": ds.remove_columns("video")}, tracks)


def _videos_by_id(folder: DatasetFolder, config: str) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for path in folder.data_files(config, "train"):
        for row in pq.read_table(path, columns=["sample_id", "video"]).to_pylist():
            out[row["sample_id"]] = row["video"]["bytes"] if row["video"] else None
    return out


def _mib(n: int) -> str:
    return f"{n / 2**20:8.2f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=50)
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--rows-per-shard", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ds"
        t0 = time.perf_counter()
        work = build_work_area(root, args.prompts, args.seeds)
        videos, need = merge_disk_need(work)
        n = args.prompts * args.seeds
        print(f"{n} videos, {_mib(videos)} of mp4 ({time.perf_counter() - t0:.1f} s to build)")
        folder = DatasetFolder(root)
        with PeakSize(root) as new:
            before_new = _tree_bytes(root)
            consolidate(folder, rows_per_shard=args.rows_per_shard)
        with PeakSize(root) as old:
            before_old = _tree_bytes(root)
            former_merge(folder, args.rows_per_shard)
        same = _videos_by_id(folder, "samples") == _videos_by_id(folder, "former-samples")
        new_extra, old_extra = new.peak - before_new, old.peak - before_old
        print(f"streaming merge: peak extra {_mib(new_extra)} = {new_extra / videos:.2f}× videos")
        print(f"former merge:    peak extra {_mib(old_extra)} = {old_extra / videos:.2f}× videos")
        print(f"ratio streaming / former: {new_extra / old_extra:.2f}")
        print(
            f"peak on disk with the work area: {(videos + new_extra) / videos:.2f}× videos "
            f"(former {(videos + old_extra) / videos:.2f}×)"
        )
        print(f"free space the merge now requires: {_mib(need)} (videos + 64 MiB margin)")
        print(f"same rows and video bytes in both outputs: {same}")


if __name__ == "__main__":
    main()
