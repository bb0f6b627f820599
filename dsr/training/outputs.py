"""What a training run leaves in its output folder, drawn once::

    <output_dir>/
    ├── pytorch_lora_weights.safetensors   the adapter (diffusers format): <Pipeline>.load_lora_weights(dir)
    ├── README.md                          model card (dsr.cards.render_model_card)
    ├── training_config.json               TRAINING_RECORD: settings, data, LoRA targets, final metrics
    ├── training_log.jsonl                 every logged step (the Trainer's log history)
    ├── train_results.json                 the Trainer's save_metrics("train", ...): runtime, samples/s, loss
    ├── all_results.json                   the same, merged with any other save_metrics split
    ├── trainer_state.json                 the Trainer's save_state(): step, log history, settings
    ├── training_curves.png                loss, dpo / zo terms, rewards of winners and losers
    ├── checkpoint-<step>/                 adapter + optimizer + scheduler + RNG states (never pushed)
    ├── runs/                              tensorboard events with --report-to tensorboard (never pushed)
    ├── pair_draws/rank-<r>.jsonl          with log_pair_draws: every drawn pair (never pushed)
    ├── eval_steps/step-<N>.jsonl          with eval_steps: the scored samples of each evaluation (never pushed)
    └── .dsr-train.lock                    held by the running job (a second one is refused)

``PUBLISHED_FILES`` are the files pushed to the Hub. None of them holds an absolute local path or
a secret: local base models and datasets are named by their folder name only.
"""  # noqa: E501

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsr.cards import publishable_values, render_model_card
from dsr.layout import atomic_write_text

if TYPE_CHECKING:
    from dsr.training.config import SpatialAlignConfig
    from dsr.training.families import TrainingFamily

__all__ = [
    "CARD",
    "CURVES",
    "LOCK",
    "LOG",
    "PUBLISHED_FILES",
    "TRAINING_RECORD",
    "optimization",
    "plot_training_curves",
    "run_fingerprint",
    "training_record",
    "write_outputs",
]

FORMAT_VERSION = 1
TRAINING_RECORD = "training_config.json"
LOG = "training_log.jsonl"
CURVES = "training_curves.png"
CARD = "README.md"
LOCK = ".dsr-train.lock"
#: Written by the Trainer itself (``save_metrics("train", ...)``, ``save_state()``).
TRAINER_FILES = ["train_results.json", "all_results.json", "trainer_state.json"]
PUBLISHED_FILES = [
    "pytorch_lora_weights.safetensors",
    CARD,
    TRAINING_RECORD,
    LOG,
    CURVES,
    *TRAINER_FILES,
]
#: The libraries whose versions the card records (with dsr's own).
FRAMEWORKS = ("torch", "diffusers", "transformers", "peft", "accelerate")

#: Settings that change what is trained: a run resumes only from checkpoints made with the same.
RESULT_FIELDS = (
    "dataset",
    "dataset_revision",
    "pairs_config",
    "samples_config",
    "split",
    "tau_train",
    "base_model",
    "base_model_revision",
    "base_dtype",
    "lora_rank",
    "lora_alpha",
    "lora_dropout",
    "lora_target_modules",
    "beta",
    "reg",
    "lambda_zo",
    "lambda_sft",
    "margin_clip",
    "timestep_sampling",
    "timestep_shift",
    "num_train_timesteps",
    "logit_mean",
    "logit_std",
    "shared_noise",
    "pair_forward",
    "train_num_frames",
    "train_height",
    "train_width",
    "max_sequence_length",
    "cache_dtype",
    "timestep_dtype",
    "learning_rate",
    "lr_scheduler_type",
    "warmup_steps",
    "cosine_horizon",
    "weight_decay",
    "adam_beta1",
    "adam_beta2",
    "adam_epsilon",
    "max_grad_norm",
    "optim",
    "seed",
    "bf16",
    "fp16",
)


def run_fingerprint(config: SpatialAlignConfig) -> dict[str, Any]:
    """The result-defining settings (and the effective batch) of a run, JSON-ready."""
    out = {k: getattr(config, k, None) for k in RESULT_FIELDS}
    out["total_batch_size"] = config.total_batch_size
    return json.loads(json.dumps(out, default=str))


def _local_name(value: str | None) -> tuple[str | None, bool]:
    """(what to publish, is it a local path): a folder's name, never its absolute path."""
    if value and Path(value).expanduser().exists():
        return Path(value).expanduser().resolve().name, True
    return value, False


def _public_settings(config: SpatialAlignConfig) -> dict[str, Any]:
    settings = config.public_dict()
    settings["base_model"], _ = _local_name(config.base_model)
    settings["dataset"], _ = _local_name(config.dataset)
    settings["eval_dataset"], _ = _local_name(config.eval_dataset)
    settings.pop("cache_dir", None)
    settings.pop("run_name", None)  # defaults to the output folder
    from dsr.cards import mask_local_paths

    return json.loads(mask_local_paths(json.dumps(settings, default=str)))


def training_record(
    config: SpatialAlignConfig,
    *,
    command: str,
    data: dict[str, Any],
    dataset: dict[str, Any],
    generation: dict[str, Any],
    lora_targets: list[str],
    trainable: int,
    log_history: list[dict[str, Any]],
    global_step: int,
    family: TrainingFamily | None = None,
) -> dict[str, Any]:
    """The machine-readable record of a run (``training_config.json``), from which the
    card is rendered; ``family`` names the model family and its pipeline (default: Wan)."""
    from dsr import __version__

    base_name, base_local = _local_name(config.base_model)
    return {
        "family": family.name if family else "wan",
        "pipeline": family.pipeline_class if family else "WanPipeline",
        "format_version": FORMAT_VERSION,
        "dsr_version": __version__,
        "command": command,
        "base_model": None if base_local else config.base_model,
        "base_model_name": base_name,
        "base_model_is_local": base_local,
        "dataset": dataset,
        "data": data,
        "generation": generation,
        "lora": {
            "rank": config.lora_rank,
            "alpha": config.lora_alpha,
            "dropout": config.lora_dropout,
            "target_modules": lora_targets,
            "trainable_parameters": trainable,
        },
        "optimization": optimization(config),
        "settings": _public_settings(config),
        "world_size": config.world_size,
        "total_batch_size": config.total_batch_size,
        "global_step": global_step,
        "finished": global_step >= config.max_steps > 0,
        "final_metrics": final_metrics(log_history),
        "frameworks": framework_versions(),
        "run_fingerprint": hashlib.sha256(
            json.dumps(run_fingerprint(config), sort_keys=True).encode()
        ).hexdigest(),
    }


def framework_versions() -> dict[str, str]:
    """The installed versions of the libraries the run used, and dsr's."""
    from importlib.metadata import PackageNotFoundError, version

    from dsr import DISTRIBUTION, __version__

    out = {DISTRIBUTION: __version__}
    for name in FRAMEWORKS:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def optimization(config: SpatialAlignConfig) -> dict[str, Any]:
    """Optimizer, schedule, clipping and timestep precision, spelled out for the record and card."""
    kind = str(getattr(config.lr_scheduler_type, "value", config.lr_scheduler_type))
    warmup = config.get_warmup_steps(config.max_steps) if config.max_steps > 0 else 0
    horizon = (config.cosine_horizon or config.max_steps) if kind == "cosine" else None
    last = config.max_steps - 1
    final = None
    if horizon is not None and last >= warmup:
        final = 0.5 * (1.0 + math.cos(math.pi * (last - warmup) / max(1, horizon - warmup)))
    return {
        "optimizer": str(getattr(config.optim, "value", config.optim)),
        "learning_rate": config.learning_rate,
        "weight_decay": config.weight_decay,
        "betas": [config.adam_beta1, config.adam_beta2],
        "lr_scheduler": kind,
        "warmup_steps": warmup,
        "cosine_horizon": horizon,
        "max_steps": config.max_steps,
        "final_lr_multiplier": final,
        "max_grad_norm": config.max_grad_norm or None,
        "timestep_dtype": config.timestep_dtype,
    }


def final_metrics(log_history: list[dict[str, Any]]) -> dict[str, float]:
    """The last training log entry's loss and SpatialAlign metrics."""
    steps = [e for e in log_history if "loss" in e]
    if not steps:
        return {}
    last = steps[-1]
    keep = ("loss", "learning_rate", "grad_norm", "timestep")
    return {
        k: float(v) for k, v in last.items() if k in keep or k.startswith(("loss/", "rewards/"))
    }


def plot_training_curves(log_history: list[dict[str, Any]], path: Path) -> Path:
    """Four panels over steps: loss and its DPO part, the regularizer, both rewards, accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    steps = [e for e in log_history if "loss" in e]
    x = [e["step"] for e in steps]
    panels = (
        ("loss", ("loss", "loss/dpo")),
        ("regularizer", ("loss/zo", "loss/sft")),
        ("rewards (e_ref − e_θ)", ("rewards/chosen", "rewards/rejected", "rewards/margins")),
        ("reward accuracy", ("rewards/accuracies",)),
    )
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), dpi=110)
    for ax, (title, keys) in zip(axes.flat, panels, strict=True):
        for key in keys:
            ys = [e.get(key) for e in steps]
            if any(y is not None for y in ys):
                ax.plot(x, [float("nan") if y is None else y for y in ys], marker=".", label=key)
        ax.set(title=title, xlabel="step")
        ax.ticklabel_format(axis="y", useOffset=False, style="sci", scilimits=(-3, 4))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
    axes.flat[2].axhline(0.0, color="grey", linewidth=0.8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def write_outputs(
    folder: Path,
    record: dict[str, Any],
    log_history: list[dict[str, Any]],
    *,
    repo_id: str | None = None,
    version: str | None = None,
) -> None:
    """Record, log, curves and card (the adapter itself is written by the trainer); the record's
    values as published: no secret, no absolute local path (the command line included)."""
    record = publishable_values(record)
    atomic_write_text(folder / TRAINING_RECORD, json.dumps(record, indent=2, sort_keys=True) + "\n")
    atomic_write_text(
        folder / LOG, "".join(json.dumps(e, sort_keys=True) + "\n" for e in log_history)
    )
    plot_training_curves(log_history, folder / CURVES)
    atomic_write_text(folder / CARD, render_model_card(record, repo_id=repo_id, version=version))
