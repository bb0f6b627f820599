"""``train``: the whole ``dsr train`` job, one linear function per phase.

checks (options, output folder lock, push target and token) → data (resolve, load and check the
pairs) → precompute (latents and text embeddings, sharded over ranks, cached) → model (base
transformer + LoRA) → ``SpatialAlignTrainer.train`` (resuming the same run's last complete
checkpoint) → outputs (adapter, record, log, curves, card; rank 0) → push (rank 0).

Re-running the same command after a crash or a ``kill -9`` resumes from the last complete
checkpoint; after a finished run it writes nothing new (and pushes if asked). An output folder that
holds checkpoints of a run with other settings is refused unless ``overwrite_output_dir``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsr.errors import ConfigError
from dsr.locks import exclusive_lock
from dsr.training.outputs import (
    LOCK,
    PUBLISHED_FILES,
    TRAINER_FILES,
    TRAINING_RECORD,
    run_fingerprint,
)

if TYPE_CHECKING:
    from transformers import TrainerCallback

    from dsr.training.cache import CacheIndex
    from dsr.training.config import SpatialAlignConfig
    from dsr.training.data import DatasetSource, PairSet
    from dsr.training.families import TrainingFamily
    from dsr.training.timesteps import NoiseSettings

__all__ = ["TrainResult", "last_complete_checkpoint", "prepare_data", "train"]

log = logging.getLogger(__name__)

RUN_FILE = ".dsr-run.json"
CHECKPOINT_FILES = (
    "trainer_state.json",
    "pytorch_lora_weights.safetensors",
    "optimizer.pt",
    "scheduler.pt",
)


@dataclass
class TrainResult:
    """What a run did and where its outputs are."""

    output_dir: Path
    global_step: int = 0
    resumed_from: str | None = None
    already_done: bool = False
    pushed: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, int] = field(default_factory=dict)
    final_metrics: dict[str, float] = field(default_factory=dict)


def last_complete_checkpoint(output_dir: Path) -> Path | None:
    """The newest ``checkpoint-N`` whose files are all there and whose state parses (a kill during
    a save leaves an incomplete folder, which is skipped)."""
    found = []
    for path in output_dir.glob("checkpoint-*"):
        step = path.name.removeprefix("checkpoint-")
        if not step.isdigit() or not all((path / f).is_file() for f in CHECKPOINT_FILES):
            continue
        try:
            json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        found.append((int(step), path))
    return max(found)[1] if found else None


def _check_run(config: SpatialAlignConfig, out: Path) -> str | None:
    """Which checkpoint to resume from (None: start afresh); refuses another run's folder."""
    run_file = out / RUN_FILE
    mine = run_fingerprint(config)
    previous = json.loads(run_file.read_text(encoding="utf-8")) if run_file.exists() else None
    if config.overwrite_output_dir:
        for path in [*out.glob("checkpoint-*"), out / "pair_draws"]:
            shutil.rmtree(path, ignore_errors=True)
        for name in PUBLISHED_FILES:
            (out / name).unlink(missing_ok=True)
        previous = None
    elif previous is not None and previous != mine:
        changed = sorted(k for k in set(mine) | set(previous) if mine.get(k) != previous.get(k))
        raise ConfigError(
            f"{out} holds a run with other settings ({', '.join(changed[:6])} differ): choose "
            "another --output-dir, or pass --overwrite-output-dir to start afresh there"
        )
    elif previous is None and any(out.glob("checkpoint-*")):
        raise ConfigError(
            f"{out} holds checkpoints of a run dsr did not record: choose another --output-dir, or "
            "pass --overwrite-output-dir"
        )
    run_file.write_text(json.dumps(mine, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if config.resume_from_checkpoint:
        path = Path(config.resume_from_checkpoint)
        if not path.is_dir():
            raise ConfigError(f"resume_from_checkpoint {path} is not a checkpoint folder")
        return str(path)
    last = last_complete_checkpoint(out)
    return str(last) if last else None


def _finished(out: Path, config: SpatialAlignConfig) -> bool:
    record = out / TRAINING_RECORD
    if not record.exists() or not (out / PUBLISHED_FILES[0]).exists():
        return False
    data = json.loads(record.read_text(encoding="utf-8"))
    return bool(data.get("finished")) and data.get("global_step") == config.max_steps


def prepare_data(
    config: SpatialAlignConfig, *, state: Any
) -> tuple[DatasetSource, PairSet, CacheIndex]:
    """Resolve and check the dataset, then precompute the latents and embeddings (all ranks)."""
    from dsr.training.cache import check_base_model, check_complete, precompute
    from dsr.training.data import load_pair_set, resolve_dataset

    if not config.dataset:
        raise ConfigError(
            "no dataset: give --dataset (a folder built by `dsr build-videos`, or a Hub repo id)"
        )
    with state.main_process_first():
        source = resolve_dataset(
            config.dataset,
            config.dataset_revision,
            configs=(config.pairs_config, config.samples_config),
            split=config.split,
        )
    pairs = load_pair_set(
        source,
        pairs_config=config.pairs_config,
        samples_config=config.samples_config,
        split=config.split,
        tau=config.tau_train,
    )
    log.info("training data: %s", pairs.summary())
    with state.main_process_first():
        check_base_model(config.base_model, config.base_model_revision)
    index = precompute(
        config,
        pairs,
        source,
        rank=state.process_index,
        world=state.num_processes,
        device=str(state.device),
        show_progress=state.is_local_main_process,
    )
    state.wait_for_everyone()
    check_complete(index)
    return source, pairs, index


def _generator_settings(pairs: PairSet) -> dict[str, Any]:
    """The recorded generator settings of the training videos ({} when unreadable)."""
    sample = pairs.samples[pairs.prompts[0].chosen[0]]
    try:
        return dict(json.loads(sample.get("generator_settings") or "{}"))
    except json.JSONDecodeError:
        return {}


def _generation(pairs: PairSet) -> dict[str, Any]:
    """The generation settings of the training videos (for the card's usage snippet)."""
    settings = _generator_settings(pairs)
    keys = ("height", "width", "num_frames", "fps", "num_inference_steps", "guidance_scale")
    return {k: settings[k] for k in keys if k in settings}


def train(
    config: SpatialAlignConfig,
    *,
    command: str = "dsr train",
    precompute_only: bool = False,
    callbacks: list[TrainerCallback] | None = None,
) -> TrainResult:
    """Run (or resume) one SpatialAlign training; see the module docstring."""
    from accelerate import PartialState

    state = PartialState()
    family = resolve_family(config)
    out = config.output_path
    out.mkdir(parents=True, exist_ok=True)
    lock = (
        exclusive_lock(out / LOCK, f"output folder {out}")
        if state.is_main_process
        else contextlib.nullcontext()
    )
    with lock:
        if config.push_to_hub and state.is_main_process:
            from dsr.hub import preflight_push
            from dsr.training.preflight import hub_repo_id

            config.hub_model_id = hub_repo_id(config.hub_model_id, out, config.hub_token)
            preflight_push(config.hub_model_id, config.version, force=config.force)
        resume = _check_run(config, out) if state.is_main_process and not precompute_only else None
        resume = _broadcast(resume, state)
        evaluation = _eval_callback(
            config, state
        )  # its prompts and components checked before the long work
        source, pairs, index = prepare_data(config, state=state)
        result = TrainResult(out, data=pairs.summary(), cache=index.computed)
        if precompute_only:
            return result
        if _finished(out, config):
            result.already_done, result.global_step = True, config.max_steps
            log.info(
                "%s already holds the finished adapter (%d steps): nothing to train",
                out,
                config.max_steps,
            )
        else:
            _fit(
                config,
                family,
                pairs,
                index,
                source,
                result,
                resume,
                callbacks,
                command,
                state,
                evaluation,
            )
        if config.push_to_hub and config.hub_model_id and state.is_main_process:
            from dsr.hub import push_model_folder

            result.pushed = push_model_folder(
                out,
                config.hub_model_id,
                files=[f for f in PUBLISHED_FILES if f not in TRAINER_FILES or (out / f).exists()],
                version=config.version,
                private=bool(config.hub_private_repo),
                force=config.force,
            )
        return result


def _broadcast(value: Any, state: Any) -> Any:
    """Rank 0's value on every rank."""
    if state.num_processes == 1:
        return value
    from accelerate.utils import broadcast_object_list

    box = [value]
    broadcast_object_list(box, from_process=0)
    return box[0]


def _eval_callback(config: SpatialAlignConfig, state: Any) -> Any:
    """The ``--eval-steps`` callback (None when off), built on every rank."""
    if not config.eval_steps:
        return None
    from dsr.training.eval_callback import make_eval_callback

    with state.main_process_first():
        return make_eval_callback(config)


def resolve_family(config: SpatialAlignConfig) -> TrainingFamily:
    """The base model's family (one clear error for a pipeline dsr cannot train); LoRA targets
    left at their default (Wan's names) become the family's, before the run is fingerprinted."""
    import numpy as np

    from dsr.training.families import load_family
    from dsr.training.options import DEFAULT_LORA_TARGETS

    family = load_family(config.base_model, config.base_model_revision)
    if family.name != "wan" and tuple(config.lora_target_modules) == DEFAULT_LORA_TARGETS:
        config.lora_target_modules = list(family.lora_targets)
    family.draw(np.random.default_rng(0), _noise_settings(config))  # refuses what it cannot draw
    return family


def _noise_settings(config: SpatialAlignConfig) -> NoiseSettings:
    from dsr.training.timesteps import NoiseSettings

    return NoiseSettings(
        config.timestep_sampling,
        config.timestep_shift,
        config.num_train_timesteps,
        config.logit_mean,
        config.logit_std,
        config.shared_noise,
        config.timestep_dtype,
    )


def _fit(
    config: SpatialAlignConfig,
    family: TrainingFamily,
    pairs: PairSet,
    index: CacheIndex,
    source: DatasetSource,
    result: TrainResult,
    resume: str | None,
    callbacks: list[TrainerCallback] | None,
    command: str,
    state: Any,
    evaluation: Any = None,
) -> None:
    from transformers import enable_full_determinism, set_seed

    from dsr.training.dataset import PairDraws
    from dsr.training.model import SpatialAlignModel, add_lora, load_transformer, lora_parameters
    from dsr.training.outputs import final_metrics, training_record, write_outputs
    from dsr.training.trainer import SpatialAlignTrainer

    # the adapter's initial A matrices are random: draw them from the run's seed, not from whatever
    # the process did before (a seed must reproduce the adapter)
    enable_full_determinism(config.seed) if config.full_determinism else set_seed(config.seed)
    model = load_transformer(config, family)
    targets = add_lora(model, config)
    draws = PairDraws(
        pairs,
        index,
        num_draws=config.max_steps * config.total_batch_size,
        seed=config.seed,
        noise=_noise_settings(config),
        family=family,
    )
    if evaluation is not None:
        evaluation.use_generation(_generator_settings(pairs))
        callbacks = [*(callbacks or []), evaluation]
    trainer = SpatialAlignTrainer(
        model=SpatialAlignModel(model, family),
        args=config,
        train_dataset=draws,
        callbacks=callbacks,
    )
    if evaluation is not None:
        evaluation.attach(trainer)
    result.resumed_from = Path(resume).name if resume else None
    output = trainer.train(resume_from_checkpoint=resume)
    trainer.save_model(str(result.output_dir))
    trainer.save_metrics("train", output.metrics)  # train_results.json, all_results.json
    trainer.save_state()  # trainer_state.json, as transformers' example scripts leave them
    result.global_step = trainer.state.global_step
    result.final_metrics = final_metrics(trainer.state.log_history)
    if state.is_main_process:
        record = training_record(
            config,
            command=command,
            data={**pairs.summary(), **index.computed},
            dataset=source.describe(),
            generation=_generation(pairs),
            lora_targets=targets,
            family=family,
            trainable=sum(p.numel() for p in lora_parameters(model).values()),
            log_history=trainer.state.log_history,
            global_step=trainer.state.global_step,
        )
        write_outputs(
            result.output_dir,
            record,
            trainer.state.log_history,
            repo_id=config.hub_model_id,
            version=config.version,
        )
    state.wait_for_everyone()
