"""Cost of ``dsr report``: a report of N samples (default 1,000), the time beyond copying the videos,
and the cost of re-runs.

A script, not a test: ``python benchmarks/bench_report.py [--samples 1000] [--distinct 12]
[--gallery 5000] [--workdir DIR]``. It builds ``--distinct`` real samples (synthetic videos of 81
frames at 480×832, the paper's size, tracked and scored by the pipeline), then replicates their rows
under new sample ids to ``--samples`` rows (every row keeps its own embedded mp4 bytes, so the
report reads and writes N videos), and times:

1. the plain copy of the N videos out of the parquet files (read the bytes, write N files): the
   floor any report that ships the videos pays;
2. ``build_report`` into a fresh folder, with its stages (read rows, videos, page data + assets);
3. a re-run with nothing changed, and a re-run after one sample's DSR-Score changed;
4. with ``--gallery N`` and Debian's chromium: a video-free report (``--config tracks``) of N rows,
   and the time its gallery and one sample page take to render in headless Chromium.
"""  # noqa: E501

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dsr.builders.folder import ConfigRecord, DatasetFolder
from dsr.report import ReportConfig, build_report
from dsr.report.rows import iter_videos

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def build_base(root: Path, distinct: int) -> Path:
    """``distinct`` real samples: template prompts, synthetic 81×480×832 videos,
    annotations tracker."""
    from dsr.builders.prompts import PromptBuildConfig, build_prompts
    from dsr.builders.videos import VideoBuildConfig, build_videos

    build_prompts(
        PromptBuildConfig(
            out=root, backend="template", n_train=max(1, distinct // 4), n_test=6, seed=0
        )
    )
    build_videos(
        VideoBuildConfig(
            prompts=str(root),
            out=str(root),
            split="train",
            generator="synthetic",
            generator_options={"num_frames": 81, "height": 480, "width": 832, "fps": 16},
            tracker="annotations",
            samples_per_prompt=4,
            limit=max(1, distinct // 4),
        )
    )
    return root


def replicate(base: Path, out: Path, n: int) -> Path:
    """A dataset folder whose samples, tracks and pairs configs hold ``n`` rows cycling through the
    rows of ``base`` under new prompt and sample ids."""
    import datasets

    from dsr.builders.consolidate import TRACK_COLUMNS
    from dsr.builders.folder import stored_features
    from dsr.builders.pairs import PAIR_COLUMNS, make_pairs
    from dsr.builders.samples import SAMPLE_COLUMNS, sample_features

    src = DatasetFolder(base)
    table = pa.concat_tables([pq.read_table(p) for p in src.data_files("samples", "train")])
    rows = table.to_pylist()
    copies = []
    for i in range(n):
        row = dict(rows[i % len(rows)])
        row["prompt_id"] = f"p{i // 4:05d}-{row['prompt_id']}"
        row["sample_id"] = f"{row['prompt_id']}__seed{row['seed']:02d}"
        copies.append(row)
    features = stored_features(sample_features())  # the boxes as the merge stores them
    samples = datasets.Dataset.from_list(copies, features=features)
    folder = DatasetFolder(out)
    folder.write_config(
        "samples",
        {"train": samples},
        ConfigRecord("bench", dict(SAMPLE_COLUMNS)),
        max_rows_per_shard=200,
    )
    folder.write_config(
        "tracks",
        {"train": samples.remove_columns("video")},
        ConfigRecord("bench", dict(TRACK_COLUMNS)),
    )
    pairs = make_pairs(copies).pairs
    folder.write_config(
        "pairs",
        {"train": datasets.Dataset.from_polars(pairs)},
        ConfigRecord("bench", dict(PAIR_COLUMNS)),
    )
    return out


def copy_floor(folder: Path, dest: Path) -> tuple[float, int]:
    """Seconds to read every embedded mp4 and write it to its own file, and the bytes written."""
    dest.mkdir(parents=True)
    start, total = time.perf_counter(), 0
    for path in DatasetFolder(folder).data_files("samples", "train"):
        for sid, data in iter_videos(path):
            if data:
                (dest / f"{sid}.mp4").write_bytes(data)
                total += len(data)
    return time.perf_counter() - start, total


def change_one_score(folder: Path) -> str:
    path = DatasetFolder(folder).data_files("samples", "train")[0]
    table = pq.read_table(path)
    scores = table.column("dsr_score").to_pylist()
    scores[0] = 0.5 if scores[0] != 0.5 else 0.25
    i = table.schema.get_field_index("dsr_score")
    pq.write_table(table.set_column(i, "dsr_score", pa.array(scores, pa.float64())), path)
    return str(table.column("sample_id")[0])


def timed(config: ReportConfig) -> tuple[float, Any]:
    start = time.perf_counter()
    result = build_report(config)
    return time.perf_counter() - start, result


def browser_times(site: Path, chromium: str) -> dict[str, float]:
    """Milliseconds from navigation to the rendered gallery (cards in the DOM) and sample page."""
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for name, url, ready in (
            ("gallery", "gallery.html", "#cards > li"),
            ("sample", "sample.html", ".stage canvas"),
        ):
            start = time.perf_counter()
            page.goto((site / url).as_uri())
            page.wait_for_selector(ready)
            out[name] = 1000 * (time.perf_counter() - start)
        start = time.perf_counter()
        page.goto((site / "gallery.html").as_uri() + "#validity=valid&sort=score-desc&page=20")
        page.wait_for_selector("#cards > li")
        out["gallery, filtered and sorted, page 20"] = 1000 * (time.perf_counter() - start)
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--distinct", type=int, default=12)
    parser.add_argument(
        "--gallery", type=int, default=5000, help="rows of the browser timing (0: skip)"
    )
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-report-"))
    t = time.perf_counter()
    base = work / "base"
    if not (base / "samples").is_dir():  # a --workdir of an earlier run keeps its base samples
        build_base(base, args.distinct)
    folder = replicate(base, work / "dataset", args.samples)
    for old in ("plain-copy", "site", "gallery-site"):
        shutil.rmtree(work / old, ignore_errors=True)
    print(f"dataset of {args.samples} samples built in {time.perf_counter() - t:.1f} s ({work})")

    floor, nbytes = copy_floor(folder, work / "plain-copy")
    print(f"plain copy of {args.samples} videos ({nbytes / 1e6:.0f} MB): {floor:.2f} s")
    seconds, result = timed(ReportConfig(source=str(folder), out=str(work / "site")))
    laps = ", ".join(f"{k} {v:.2f} s" for k, v in result.seconds.items())
    print(f"report, first run: {seconds:.2f} s ({laps}); {len(result.written)} files written")
    print(f"  beyond the plain copy of the videos: {seconds - floor:.2f} s")
    seconds, result = timed(ReportConfig(source=str(folder), out=str(work / "site")))
    print(f"re-run, nothing changed: {seconds:.2f} s, {len(result.written)} files written")
    sid = change_one_score(folder)
    seconds, result = timed(ReportConfig(source=str(folder), out=str(work / "site")))
    print(
        f"re-run after one score changed ({sid}): {seconds:.2f} s, {len(result.written)} files "
        f"written ({', '.join(sorted(result.written))}); videos re-read, "
        f"{result.videos.written} rewritten"
    )

    if args.gallery and Path(args.chromium).exists():
        big = replicate(base, work / "gallery-dataset", args.gallery)
        seconds, result = timed(
            ReportConfig(source=str(big), out=str(work / "gallery-site"), config="tracks")
        )
        print(f"video-free report of {args.gallery} samples: {seconds:.2f} s")
        for name, ms in browser_times(work / "gallery-site", args.chromium).items():
            print(f"  chromium, {name}: {ms:.0f} ms")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
