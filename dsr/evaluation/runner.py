"""``evaluate``: the whole ``dsr eval`` job, writing the folder drawn
in :mod:`dsr.evaluation.layout`.

Resumable: a re-run skips every (metric, sample) already committed, so a ``kill -9`` loses at most
the videos in flight; a re-run with other weights or sizes for a metric is refused (use another
``--out``). Sharded like ``build-videos``: ``--num-shards/--shard-index`` or RANK/WORLD_SIZE, each
shard a disjoint slice of the samples, its models loaded once; whichever process finds every value
committed writes the outputs. The DSR metrics need no model and no video.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsr.builders.folder import atomic_write_text
from dsr.builders.work import ShardSpec, resolve_shard
from dsr.errors import BusyError, ConfigError
from dsr.evaluation.config import EvalConfig
from dsr.evaluation.data import EvalSource, load_rows, open_source, stream_videos
from dsr.evaluation.layout import MERGE_LOCK, SETTINGS, SHARD_LOCK, WORK
from dsr.locks import exclusive_lock
from dsr.progress import progress_bar

__all__ = ["EvalRun", "committed", "evaluate"]

log = logging.getLogger(__name__)


@dataclass
class EvalRun:
    """What one process did, and the results when they were written."""

    out: Path
    shard: ShardSpec
    computed: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    results: dict[str, Any] | None = None


def _work(out: Path, *parts: str) -> Path:
    path = out.joinpath(WORK, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check_settings(out: Path, metric: str, settings: Mapping[str, Any]) -> None:
    """Record the metric's settings, or refuse values made with others (never a silent mix)."""
    path = _work(out, metric) / SETTINGS
    mine = json.loads(json.dumps(settings, sort_keys=True, default=str))
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        changed = sorted(k for k in set(old) | set(mine) if old.get(k) != mine.get(k))
        if changed and any((path.parent).glob("*__seed*.json")):
            raise ConfigError(
                f"{out} holds {metric} values made with other settings ({', '.join(changed)} "
                f"differ: {old.get(changed[0])!r} → {mine.get(changed[0])!r}): use another --out, "
                "or the same options as that run"
            )
    atomic_write_text(path, json.dumps(mine, indent=2, sort_keys=True) + "\n")


def committed(out: Path, metric: str) -> dict[str, dict[str, Any]]:
    """sample_id → values of every video already done for ``metric``."""
    folder = out / WORK / metric
    if not folder.is_dir():
        return {}
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*__seed*.json")}


def _mine(rows: Sequence[Mapping[str, Any]], shard: ShardSpec) -> list[Mapping[str, Any]]:
    return [r for i, r in enumerate(rows) if i % shard.count == shard.index]


def _source_settings(source: EvalSource) -> dict[str, Any]:
    return {"data_fingerprint": source.fingerprint, "config": source.config, "split": source.split}


def _run_metrics(
    config: EvalConfig,
    source: EvalSource,
    rows: Sequence[Mapping[str, Any]],
    shard: ShardSpec,
    out: Path,
    run: EvalRun,
) -> None:
    """Compute every missing (metric, sample) of this shard, one group of videos at a time."""
    from dsr.evaluation.models import resolve_device
    from dsr.evaluation.video_metrics import make_metrics

    metrics = make_metrics(config, resolve_device(config.device, shard.device_index))
    done = {}
    for metric in metrics:
        _check_settings(out, metric.name, {**metric.settings(), **_source_settings(source)})
        done[metric.name] = committed(out, metric.name)
    mine = _mine(rows, shard)
    todo = [r for r in mine if any(str(r["sample_id"]) not in done[m.name] for m in metrics)]
    for m in metrics:
        run.skipped[m.name] = sum(str(r["sample_id"]) in done[m.name] for r in mine)
        run.computed[m.name] = 0
    if not todo:
        return
    by_id = {str(r["sample_id"]): r for r in todo}
    bar = _progress(len(todo))
    try:
        for group in stream_videos(source, list(by_id), config.videos_per_batch):
            _evaluate_group(
                metrics,
                [(by_id[sid], frames, error) for sid, frames, error in group],
                done,
                out,
                run,
            )
            bar.update(len(group))
    finally:
        bar.close()


def _evaluate_group(
    metrics: Sequence[Any],
    group: Sequence[tuple[Mapping[str, Any], Any, str | None]],
    done: Mapping[str, Mapping[str, Any]],
    out: Path,
    run: EvalRun,
) -> None:
    for metric in metrics:
        items = [(r, v, e) for r, v, e in group if str(r["sample_id"]) not in done[metric.name]]
        readable = [(r, v) for r, v, e in items if v is not None]
        values = (
            metric.values([r for r, _ in readable], [v for _, v in readable]) if readable else []
        )
        results = {
            str(r["sample_id"]): {**val, "error": None}
            for (r, _), val in zip(readable, values, strict=True)
        }
        results.update({str(r["sample_id"]): {"error": e} for r, v, e in items if v is None})
        for sid, value in results.items():
            atomic_write_text(
                out / WORK / metric.name / f"{sid}.json", json.dumps(value, sort_keys=True) + "\n"
            )
            run.computed[metric.name] += 1


def _progress(total: int) -> Any:
    return progress_bar(total=total, unit="video", desc="dsr eval")


def _all_committed(config: EvalConfig, out: Path, rows: Sequence[Mapping[str, Any]]) -> bool:
    ids = {str(r["sample_id"]) for r in rows}
    return all(ids <= set(committed(out, m)) for m in config.model_metrics)


def evaluate(config: EvalConfig) -> EvalRun:
    """Evaluate this process's shard, then write the outputs if every value is committed."""
    from dsr.evaluation.results import write_outputs

    source = open_source(config.dataset, config.config, config.split)
    rows = load_rows(source)
    shard = resolve_shard(config.num_shards, config.shard_index)
    out = Path(config.out)
    run = EvalRun(out, shard)
    lock = _work(out) / SHARD_LOCK.format(index=shard.index, count=shard.count)
    with exclusive_lock(lock, f"shard {shard.index} of {shard.count} of the evaluation in {out}"):
        if config.model_metrics:
            _run_metrics(config, source, rows, shard, out, run)
    if not _all_committed(config, out, rows):
        log.info("not writing the results yet: other shards are still evaluating")
        return run
    with (
        contextlib.suppress(BusyError),
        exclusive_lock(_work(out) / MERGE_LOCK, f"the results of {out}"),
    ):
        values = {m: committed(out, m) for m in config.model_metrics}
        run.results = write_outputs(config, source, rows, values, out)
    return run
