"""``dsr eval compare``: several evaluation folders side by side.

One table (Markdown and CSV) with the best value of each column marked, the correctness curves
overlaid (paper Fig. A6a), and, between the first folder (the baseline) and each other one, a
paired bootstrap test of every metric both hold, over the prompts they share (they must hold the
same (prompt_id, seed) samples; otherwise that pair is reported as not comparable). Folders whose
shared metrics were computed in different variants (``dsr.evaluation.results``) are refused."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsr.builders.folder import atomic_write_text
from dsr.errors import DataError, VariantMismatchError
from dsr.evaluation.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, Ratio, paired_test
from dsr.evaluation.dsr_metrics import headline_tau
from dsr.evaluation.layout import PER_SAMPLE, RESULTS
from dsr.evaluation.results import METRIC_LABELS, curve_of, format_table, variant_of

__all__ = ["COMPARISON_FILES", "Comparison", "check_variants", "compare", "load_evaluation"]

COMPARISON_FILES = {
    "json": "comparison.json",
    "markdown": "comparison.md",
    "csv": "comparison.csv",
    "curves": "correctness_curves.png",
}


@dataclass
class Comparison:
    """The compared results, which model is best per column, and the paired tests."""

    results: list[dict[str, Any]]
    best: dict[str, list[int]]
    tests: list[dict[str, Any]] = field(default_factory=list)
    markdown: str = ""


def load_evaluation(folder: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``eval_results.json`` and the per-sample rows of an evaluation folder."""
    import polars as pl

    root = Path(folder)
    if not (root / RESULTS).is_file() or not (root / PER_SAMPLE).is_file():
        raise DataError(
            f"{root} is not a finished evaluation (no {RESULTS} or {PER_SAMPLE}): run `dsr eval "
            f"... --out {root}` first"
        )
    results = json.loads((root / RESULTS).read_text(encoding="utf-8"))
    return results, pl.read_parquet(root / PER_SAMPLE).to_dicts()


_OPTION = {
    "correct@0.7": "--tau-variant",
    "id_consistency": "--id-variant",
    "clip_iqa_natural": "--clip-iqa-variant",
    "clip_iqa_quality": "--clip-iqa-variant",
}


def check_variants(results: Sequence[Mapping[str, Any]], folders: Sequence[str | Path]) -> None:
    """Refuse (one line) evaluations that computed a shared metric in different variants."""
    for column in METRIC_LABELS:
        held = [
            (variant_of(r, column), Path(f).name)
            for r, f in zip(results, folders, strict=True)
            if column in r["metrics"]
        ]
        if len({v for v, _ in held}) > 1:
            (va, fa), (vb, fb) = held[0], next(h for h in held if h[0] != held[0][0])
            raise VariantMismatchError(
                f"{METRIC_LABELS[column]} of {fa} is the {va} variant, of {fb} the {vb} variant: "
                f"not comparable; re-evaluate {fb} with {_OPTION[column]} {va or vb}"
            )


def _value(row: Mapping[str, Any], column: str, tau: float = 0.7) -> float | None:
    if column == "correct@0.7":
        return float(
            bool(row.get("valid")) and row.get("dsr_score") is not None and row["dsr_score"] >= tau
        )
    if column == "mean_dsr_score":
        return row.get("dsr_score") if row.get("valid") else None
    return row.get(column)


def _best(results: Sequence[Mapping[str, Any]]) -> dict[str, list[int]]:
    """column → indices of the highest estimate, every tied one (every metric here is better
    when higher)."""
    best = {}
    for column in METRIC_LABELS:
        scored = {
            i: r["metrics"][column]["estimate"]
            for i, r in enumerate(results)
            if (r["metrics"].get(column) or {}).get("estimate") is not None
        }
        if len(scored) > 1:
            top = max(scored.values())
            best[column] = [i for i, value in scored.items() if value == top]
    return best


def _paired(
    base: tuple[dict[str, Any], list[dict[str, Any]]],
    other: tuple[dict[str, Any], list[dict[str, Any]]],
    n_resamples: int,
    level: float,
    seed: int,
) -> dict[str, Any]:
    (ra, rows_a), (rb, rows_b) = base, other
    out: dict[str, Any] = {
        "baseline": ra["model"]["name"],
        "model": rb["model"]["name"],
        "tests": {},
    }
    keys_a = [(str(r["prompt_id"]), int(r["seed"])) for r in rows_a]
    keys_b = [(str(r["prompt_id"]), int(r["seed"])) for r in rows_b]
    tau = headline_tau(variant_of(ra, "correct@0.7") or "exact")
    for column in METRIC_LABELS:
        if column not in ra["metrics"] or column not in rb["metrics"]:
            continue
        try:  # per-prompt sums: the order of the samples does not matter
            stat_a = Ratio.of([k[0] for k in keys_a], [_value(r, column, tau) for r in rows_a])
            stat_b = Ratio.of([k[0] for k in keys_b], [_value(r, column, tau) for r in rows_b])
            test = paired_test(
                keys_a, stat_a, keys_b, stat_b, n_resamples=n_resamples, level=level, seed=seed
            )
            out["tests"][column] = test.to_dict()
        except DataError as exc:
            out["not_comparable"] = str(exc)
            break
    return out


def _csv(results: Sequence[Mapping[str, Any]], best: Mapping[str, Sequence[int]]) -> str:
    columns = [c for c in METRIC_LABELS if any(c in r["metrics"] for r in results)]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        [
            "model",
            *(f"{c}{s}" for c in columns for s in ("", "_low", "_high")),
            "validity_rate",
            "best_in",
        ]
    )
    for i, r in enumerate(results):
        cells = []
        for c in columns:
            block = r["metrics"].get(c) or {}
            cells += [block.get("estimate"), block.get("low"), block.get("high")]
        writer.writerow(
            [
                r["model"]["name"],
                *cells,
                r["summary"]["validity_rate"],
                ";".join(c for c in columns if i in best.get(c, ())),
            ]
        )
    return buf.getvalue()


def _tests_markdown(tests: Sequence[Mapping[str, Any]]) -> str:
    lines = [
        "| baseline → model | metric | difference | 95 % interval | p-value |",
        "|---|---|---|---|---|",
    ]
    for t in tests:
        if "not_comparable" in t:
            lines.append(
                f"| {t['baseline']} → {t['model']} | (not paired: {t['not_comparable']}) | | | |"
            )
        for column, r in t["tests"].items():
            lines.append(
                f"| {t['baseline']} → {t['model']} | {METRIC_LABELS[column]} | "
                f"{r['difference']:+.3f} | [{r['low']:+.3f}, {r['high']:+.3f}] | "
                f"{r['p_value']:.4f} |"
            )
    return "\n".join(lines)


def compare(
    folders: Sequence[str | Path],
    out: str | Path,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Comparison:
    """Compare the evaluations in ``folders`` (the first is the baseline); writes the files of
    :data:`COMPARISON_FILES` to ``out``."""
    from dsr.scoring.plots import plot_correctness

    if len(folders) < 2:
        raise DataError(
            "dsr eval compare needs at least two evaluation folders (the first is the baseline)"
        )
    loaded = [load_evaluation(f) for f in folders]
    results = [r for r, _ in loaded]
    check_variants(results, folders)
    names = [r["model"]["name"] for r in results]
    if len(set(names)) != len(names):  # tell same-named models apart by their folder
        for r, f in zip(results, folders, strict=True):
            r["model"]["name"] = f"{r['model']['name']} ({Path(f).name})"
    best = _best(results)
    tests = [_paired(loaded[0], other, n_resamples, level, seed) for other in loaded[1:]]
    comparison = Comparison(results, best, tests)
    comparison.markdown = (
        "\n\n".join([format_table(results, best=best), _tests_markdown(tests)]) + "\n"
    )
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    atomic_write_text(root / COMPARISON_FILES["markdown"], comparison.markdown)
    atomic_write_text(root / COMPARISON_FILES["csv"], _csv(results, best))
    record = {
        "models": [r["model"] for r in results],
        "best": best,
        "paired_tests": tests,
        "bootstrap": {
            "resample": "prompts",
            "n_resamples": n_resamples,
            "level": level,
            "seed": seed,
        },
    }
    atomic_write_text(
        root / COMPARISON_FILES["json"], json.dumps(record, indent=2, sort_keys=True) + "\n"
    )
    plot_correctness(
        {r["model"]["name"]: curve_of(r) for r in results},
        root / COMPARISON_FILES["curves"],
        title="DSR correctness",
    )
    return comparison
