"""From committed values to the published results: the per-sample table, ``eval_results.json``
(every number, its interval, the variant that produced it, the settings and the weights), the
Table-2 text and the plots.

A metric's *variant* says how it was computed (``dsr.evaluation.config``: ``exact``/``authors`` τ
for Correct@0.7, ``authors``/``time-order`` ID consistency, ``authors``/``hf-clip`` CLIP-IQA);
numbers of different variants are different metrics, so every label carries it and ``dsr eval
compare`` refuses to put two variants side by side. Results of format 1 (before variants) were all
made by ``exact``, ``time-order`` and ``hf-clip``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dsr.builders.folder import atomic_write_text
from dsr.evaluation.bootstrap import Interval, Ratio, bootstrap_interval
from dsr.evaluation.config import EvalConfig
from dsr.evaluation.data import EvalSource
from dsr.evaluation.dsr_metrics import DSRMetrics, dsr_metrics, headline_tau, outcomes, per_type
from dsr.evaluation.layout import PER_SAMPLE, RESULTS, SETTINGS, TABLE, WORK

__all__ = [
    "FORMAT_VERSION",
    "METRIC_LABELS",
    "LEGACY_VARIANTS",
    "format_table",
    "metric_label",
    "metric_variants",
    "per_sample_rows",
    "summarize",
    "variant_of",
    "write_outputs",
]

FORMAT_VERSION = 2
#: result key → column label, in the paper's Table 2 order (then ours).
METRIC_LABELS: dict[str, str] = {
    "correct@0.7": "Correct@0.7",
    "id_consistency": "ID consistency",
    "clip_iqa_natural": "CLIP-IQA (natural)",
    "imaging_quality": "Imaging quality",
    "mean_dsr_score": "mean DSR-Score",
    "clip_iqa_quality": "CLIP-IQA (quality)",
}
#: The variant of each metric in results of format 1, which recorded none.
LEGACY_VARIANTS: dict[str, str] = {
    "correct@0.7": "exact",
    "id_consistency": "time-order",
    "clip_iqa_natural": "hf-clip",
    "clip_iqa_quality": "hf-clip",
}
_ROW_KEYS = ("sample_id", "prompt_id", "seed", "dsr_type", "valid", "reason", "dsr_score")


def per_sample_rows(
    rows: Sequence[Mapping[str, Any]],
    values: Mapping[str, Mapping[str, Mapping[str, Any]]],
    columns: Sequence[str],
) -> list[dict[str, Any]]:
    """One row per sample: its ids, DSR outcome and every model metric's value (None if none)."""
    out = []
    for row in rows:
        sid = str(row["sample_id"])
        item = {k: row.get(k) for k in _ROW_KEYS}
        item["dsr_score"] = row.get("dsr_score") if row.get("valid") else None
        merged: dict[str, Any] = {}
        for per_metric in values.values():
            merged.update(per_metric.get(sid, {}))
        item.update({c: merged.get(c) for c in columns})
        out.append(item)
    return out


def _interval(
    prompts: Sequence[str], values: Sequence[float | None], config: EvalConfig
) -> Interval:
    return bootstrap_interval(
        Ratio.of(prompts, values),
        n_resamples=config.n_resamples,
        level=config.level,
        seed=config.bootstrap_seed,
    )


def _dsr_block(metrics: DSRMetrics) -> dict[str, Any]:
    return metrics.to_dict()


def metric_variants(config: EvalConfig) -> dict[str, str]:
    """result key → the variant that computes it, for the metrics that have variants."""
    out = {"correct@0.7": str(config.tau_variant)}
    if "id" in config.metrics:
        out["id_consistency"] = config.id_variant
    if "clip_iqa" in config.metrics:
        out.update({f"clip_iqa_{a}": config.clip_iqa_variant for a in config.clip_anchors})
    return out


def variant_of(result: Mapping[str, Any], key: str) -> str | None:
    """The variant of metric ``key`` in ``result`` (an ``eval_results.json``); None for a metric
    without variants."""
    if int(result.get("format_version") or 1) < 2:
        return LEGACY_VARIANTS.get(key)
    return (result.get("metrics", {}).get(key) or {}).get("variant")


def metric_label(key: str, variant: str | None) -> str:
    """The column label of a metric, with its variant: ``ID consistency [authors]``."""
    label = METRIC_LABELS.get(key, key)
    return f"{label} [{variant}]" if variant else label


def _model_block(
    table: Sequence[Mapping[str, Any]], column: str, config: EvalConfig
) -> dict[str, Any]:
    values = [r.get(column) for r in table]
    interval = _interval([str(r["prompt_id"]) for r in table], values, config)
    return {**interval.to_dict(), "n_videos": sum(v is not None for v in values)}


def summarize(
    config: EvalConfig,
    source: EvalSource,
    table: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    weights: Mapping[str, Any],
) -> dict[str, Any]:
    """The content of ``eval_results.json``."""
    from dsr import __version__

    samples = outcomes(table)
    prompts = [s.prompt_id for s in samples]
    tau = headline_tau(str(config.tau_variant))
    main = dsr_metrics(samples, config.thresholds, str(config.tau_variant))
    variants = metric_variants(config)
    metrics: dict[str, Any] = {
        "correct@0.7": _interval(
            prompts, [float(s.score is not None and s.score >= tau) for s in samples], config
        ).to_dict(),
        "mean_dsr_score": _interval(prompts, [s.score for s in samples], config).to_dict(),
        **{c: _model_block(table, c, config) for c in columns},
    }
    for key, variant in variants.items():
        if key in metrics:
            metrics[key]["variant"] = variant
    types = per_type(samples, config.thresholds, str(config.tau_variant))
    by_type = {
        code: {
            **_dsr_block(m),
            **{c: _mean([r.get(c) for r in table if r.get("dsr_type") == code]) for c in columns},
        }
        for code, m in types.items()
    }
    return {
        "format_version": FORMAT_VERSION,
        "dsr_version": __version__,
        "command": config.command,
        "model": {
            "name": config.name or _default_name(source, table),
            "dataset": source.describe(),
            "generator": _generator(table),
        },
        "settings": {
            "metrics": list(config.metrics),
            "thresholds": list(main.curve.thresholds),
            "paper_exact": config.paper_exact,
            "bootstrap": {
                "resample": "prompts",
                "n_resamples": config.n_resamples,
                "level": config.level,
                "seed": config.bootstrap_seed,
            },
        },
        "variants": {k: v for k, v in variants.items() if k in metrics},
        "weights": dict(weights),
        "summary": _dsr_block(main),
        "metrics": metrics,
        "per_type": by_type,
    }


def _mean(values: Sequence[float | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _default_name(source: EvalSource, table: Sequence[Mapping[str, Any]]) -> str:
    described = source.described
    return str(described.get("repo_id") or described.get("local_folder") or "model")


def _generator(table: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The generation settings shared by every sample (model, sampler, adapter, ...)."""
    settings = [
        json.loads(r.get("generator_settings") or "{}")
        for r in table
        if r.get("generator_settings")
    ]
    if not settings:
        return {}
    keys = (
        "generator",
        "model",
        "sampler",
        "flow_shift",
        "num_inference_steps",
        "guidance_scale",
        "num_frames",
        "height",
        "width",
        "lora",
        "lora_scale",
        "lora_revision",
        "lora_commit",
        "lora_sha256",
    )
    return {
        k: settings[0][k]
        for k in keys
        if k in settings[0] and all(s.get(k) == settings[0][k] for s in settings)
    }


def _cell(block: Mapping[str, Any] | None) -> str:
    if not block or block.get("estimate") is None:
        return "—"
    if block.get("low") is None:
        return f"{block['estimate']:.3f}"
    return f"{block['estimate']:.3f} [{block['low']:.3f}, {block['high']:.3f}]"


def format_table(
    results: Sequence[Mapping[str, Any]], *, best: Mapping[str, Sequence[int]] | None = None
) -> str:
    """Markdown: the paper's Table 2 columns (then mean DSR-Score, validity), one row per model;
    ``best`` (column → row indices, all the tied best) is set in bold."""
    columns = [k for k in METRIC_LABELS if any(k in r["metrics"] for r in results)]
    labels = [
        metric_label(c, variant_of(next(r for r in results if c in r["metrics"]), c))
        for c in columns
    ]
    head = "| Model | " + " | ".join(labels) + " | valid |"
    lines = [head, "|" + "---|" * (len(columns) + 2)]
    for i, r in enumerate(results):
        cells = [_cell(r["metrics"].get(c)) for c in columns]
        cells = [
            f"**{c}**" if best and i in best.get(col, ()) else c
            for c, col in zip(cells, columns, strict=True)
        ]
        lines.append(
            f"| {r['model']['name']} | "
            + " | ".join(cells)
            + f" | {r['summary']['validity_rate']:.3f} |"
        )
    return "\n".join(lines)


def format_types(result: Mapping[str, Any]) -> str:
    """Markdown: Correct@0.7, mean DSR-Score and validity per DSR type."""
    correct = metric_label("correct@0.7", variant_of(result, "correct@0.7"))
    lines = [f"| type | samples | {correct} | mean DSR-Score | valid |", "|---|---|---|---|---|"]
    for code, m in result["per_type"].items():
        mean = "—" if m["mean_dsr_score"] is None else f"{m['mean_dsr_score']:.3f}"
        lines.append(
            f"| {code} | {m['n_samples']} | {m['correct@0.7']:.3f} | {mean} | "
            f"{m['validity_rate']:.3f} |"
        )
    return "\n".join(lines)


def format_curve(result: Mapping[str, Any]) -> str:
    curve = result["summary"]["correctness"]
    return (
        "| τ | "
        + " | ".join(curve)
        + " |\n|"
        + "---|" * (len(curve) + 1)
        + f"\n| {metric_label('Correct@τ', variant_of(result, 'correct@0.7'))} | "
        + " | ".join(f"{v:.3f}" for v in curve.values())
        + " |"
    )


def curve_of(result: Mapping[str, Any]) -> Any:
    """The result's correctness curve as a :class:`~dsr.scoring.CorrectnessCurve`."""
    from dsr.scoring.correctness import CorrectnessCurve

    s = result["summary"]
    curve = s["correctness"]
    return CorrectnessCurve(
        tuple(float(t) for t in curve),
        tuple(curve.values()),
        s["n_samples"],
        s["n_samples"] - s["n_valid"],
    )


def write_outputs(
    config: EvalConfig,
    source: EvalSource,
    rows: Sequence[Mapping[str, Any]],
    values: Mapping[str, Mapping[str, Mapping[str, Any]]],
    out: Path,
) -> dict[str, Any]:
    """Write every output of the folder (see :mod:`dsr.evaluation.runner`); returns the results."""
    import polars as pl

    from dsr.cards import mask_local_paths, mask_secrets
    from dsr.evaluation.plots import plot_figures
    from dsr.evaluation.video_metrics import columns as metric_columns

    columns = metric_columns(config)
    table = per_sample_rows(rows, values, columns)
    weights = {
        m: json.loads((out / WORK / m / SETTINGS).read_text(encoding="utf-8"))
        for m in config.model_metrics
    }
    results = json.loads(
        mask_local_paths(
            mask_secrets(json.dumps(summarize(config, source, table, columns, weights)))
        )
    )
    tmp = out / f".{PER_SAMPLE}.tmp"
    pl.DataFrame(table, infer_schema_length=None).write_parquet(tmp)
    tmp.replace(out / PER_SAMPLE)
    atomic_write_text(out / RESULTS, json.dumps(results, indent=2, sort_keys=True) + "\n")
    text = (
        "\n\n".join([format_table([results]), format_curve(results), format_types(results)]) + "\n"
    )
    atomic_write_text(out / TABLE, text)
    plot_figures(results, table, out)
    return results
