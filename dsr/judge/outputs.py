"""What ``dsr judge`` writes into the dataset folder (layout: :mod:`dsr.builders.folder`)::

    <out>/
    ├── judgments/<split>-<fp>-*.parquet     JUDGMENTS: one row per (sample, model, question)
    ├── pairs-vlm/<split>-<fp>-*.parquet     PAIRS_VLM (with --pairs): ``pairs``' shape, VLM reward
    ├── assets/judge-<model>.png             ASSET_FIGURE: Figure 4 and reliability over τ
    ├── assets/judge-<model>.json            ASSET_ANALYSIS: the same numbers
    └── .dsr/judge-cache/<kk>/<key>.json     CACHE_DIR: one answer per request (never uploaded)

``judgments`` keeps the rows of other models: a run replaces only its own model's rows, so several
VLMs can be compared on the same samples. The card describes every model's analysis.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl

from dsr.builders.folder import ASSETS_DIR, ConfigRecord, DatasetFolder, atomic_write_text
from dsr.builders.pairs import PairsResult, pair_splits
from dsr.judge.analysis import JudgeAnalysis
from dsr.judge.pairs_vlm import PAIRS_VLM, PAIRS_VLM_COLUMNS, VLM_TAU

__all__ = [
    "ASSET_ANALYSIS",
    "ASSET_FIGURE",
    "CACHE_DIR",
    "JUDGMENTS",
    "JUDGMENT_COLUMNS",
    "model_slug",
    "other_models",
    "write_analysis",
    "write_judgments",
    "write_pairs_vlm",
]

JUDGMENTS = "judgments"
CACHE_DIR = "judge-cache"
ASSET_FIGURE = "judge-{slug}.png"
ASSET_ANALYSIS = "judge-{slug}.json"

JUDGMENT_COLUMNS: dict[str, str] = {
    "sample_id": "the judged sample (in `samples`)",
    "prompt_id": "its prompt (in `prompts`)",
    "split": "train or test",
    "seed": "the sample's seed",
    "model": "the vision model that answered",
    "question_kind": "initial or final",
    "relation": "the relation asked about (left, right, top)",
    "question": "the exact question sent",
    "answer": "yes, no or unparsable (strictly parsed from raw_text, never guessed)",
    "raw_text": "the model's reply as received (its refusal text when it refused)",
    "refused": "whether the model refused (the API's refusal field)",
    "frames": "indices of the video frames sent (empty with --video: the server picked them)",
    "frame_mode": "frames (K JPEG images) or video (the mp4)",
    "prompt_tokens": "input tokens the endpoint reported (null if it reported none)",
    "completion_tokens": "output tokens the endpoint reported",
    "video_sha256": "sha256 of the sample's mp4: the content the answer is about",
}


def model_slug(model: str) -> str:
    """A file-name form of a model name: ``Qwen/Qwen3-VL-8B-Instruct`` →
    ``qwen-qwen3-vl-8b-instruct``."""
    return re.sub(r"[^a-z0-9.]+", "-", model.lower()).strip("-.") or "model"


def _features() -> Any:
    from datasets import Features, List, Value

    types = {
        "seed": Value("int64"),
        "refused": Value("bool"),
        "frames": List(Value("int64")),
        "prompt_tokens": Value("int64"),
        "completion_tokens": Value("int64"),
    }
    return Features({c: types.get(c, Value("string")) for c in JUDGMENT_COLUMNS})


def other_models(folder: DatasetFolder, model: str) -> pl.DataFrame | None:
    """The ``judgments`` rows of models other than ``model`` already in the folder."""
    record = folder.config_record(JUDGMENTS) or {}
    files = [f for split in record.get("splits", {}) for f in folder.data_files(JUDGMENTS, split)]
    if not files:
        return None
    rows = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
    return rows.filter(pl.col("model") != model).select(list(JUDGMENT_COLUMNS))


def _tables(analysis: JudgeAnalysis) -> str:
    kinds = ("initial", "final")
    head = (
        "| bin | "
        + " | ".join(f"{k}: n | {k}: YES | {k}: NO" for k in kinds)
        + " |\n|---|"
        + "---|" * 6
    )
    lines = [head]
    for i, b in enumerate(analysis.bins["initial"]):
        cells = []
        for k in kinds:
            c = analysis.bins[k][i]
            cells += [str(c.n), _pct(c.yes), _pct(c.no)]
        lines.append(f"| [{b.lo:+.1f}, {b.hi:+.1f}) | " + " | ".join(cells) + " |")
    a = analysis.at(analysis.tau)
    lines.append(
        f"\nBoth YES vs DSR-Score ≥ {analysis.tau}: accuracy {_num(a.accuracy)}, precision "
        f"{_num(a.precision)}, recall {_num(a.recall)}, Cohen's κ {_num(a.kappa)} (n = {a.n})."
    )
    return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def write_judgments(
    folder: DatasetFolder,
    rows: pl.DataFrame,
    analyses: dict[str, JudgeAnalysis],
    settings: dict[str, Any],
    command: str,
) -> None:
    """Replace the ``judgments`` config with ``rows`` (all models), described per model."""
    from datasets import Dataset

    features = _features()
    splits = {
        s: Dataset.from_dict(
            rows.filter(pl.col("split") == s).to_dict(as_series=False), features=features
        )
        for s in sorted(rows["split"].unique().to_list())
    }
    previous = (folder.config_record(JUDGMENTS) or {}).get("settings", {})
    markdown = "\n\n".join(
        f"**{m}**: answers per bin of r_init / r_f\n\n{_tables(a)}\n\n![judge {m}]({ASSETS_DIR}/"
        f"{ASSET_FIGURE.format(slug=model_slug(m))})"
        for m, a in analyses.items()
    )
    record = ConfigRecord(
        description="Answers of vision-language models to the paper's two questions per video "
        '(VLM-judge baseline, §3.5): "Is the <animal> initially on the <initial> of the <object>? '
        'Answer yes or no." and the same with finally/<final>, over K uniformly sampled frames '
        "(or the video). One row per (sample, model, question); join with `samples`/`tracks` "
        "on `sample_id`.",
        columns=dict(JUDGMENT_COLUMNS),
        counts={
            m: {"answers": a.answers, f"agreement@{a.tau}": _agreement(a)}
            for m, a in analyses.items()
        },
        command=command,
        settings={m: s for m, s in {**previous, **settings}.items() if m in analyses},
        card_markdown=markdown,
    )
    folder.write_config(JUDGMENTS, splits, record)


def _agreement(analysis: JudgeAnalysis) -> dict[str, Any]:
    a = analysis.at(analysis.tau)
    return {
        "accuracy": a.accuracy,
        "precision": a.precision,
        "recall": a.recall,
        "kappa": a.kappa,
        "n": a.n,
    }


def write_analysis(folder: DatasetFolder, analysis: JudgeAnalysis) -> list[Path]:
    """The figure and the JSON of one model's analysis, in the folder's assets."""
    from dsr.judge.plots import plot_judge

    slug = model_slug(analysis.model)
    figure = plot_judge(analysis, folder.asset_path(ASSET_FIGURE.format(slug=slug)))
    data = folder.asset_path(ASSET_ANALYSIS.format(slug=slug))
    atomic_write_text(data, json.dumps(analysis.to_dict(), indent=1) + "\n")
    return [figure, data]


def write_pairs_vlm(
    folder: DatasetFolder,
    pairs: PairsResult,
    splits: list[str],
    model: str,
    settings: dict[str, Any],
    command: str,
) -> None:
    """The ``pairs-vlm`` config from one model's judgments."""
    counts = "\n".join(
        f"| {s} | " + ", ".join(f"{k}: {v}" for k, v in c.items()) + " |"
        for s, c in pairs.counts.items()
    )
    record = ConfigRecord(
        description=f"DPO preference data whose reward is the VLM judge `{model}` (the paper's "
        "reward ablation): the shape of `pairs`, with winners = valid samples whose two answers "
        "are YES and losers = the other valid samples with both answers parsed; a prompt qualifies "
        "with >= 2 such samples, >= 1 winner and >= 1 loser. Train on it with `dsr train "
        "--pairs-config pairs-vlm`.",
        columns=dict(PAIRS_VLM_COLUMNS),
        counts={"prompts": pairs.counts},
        command=command,
        settings={**settings, "tau": VLM_TAU, "judge_model": model},
        card_markdown=f"**Prompts kept and dropped**\n\n| split | counts |\n|---|---|\n{counts}\n",
    )
    folder.write_config(PAIRS_VLM, pair_splits(pairs.pairs, splits), record)
