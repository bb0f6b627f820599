"""``dsr train --eval-steps N --eval-prompts K``: the DSR metrics over training steps (paper Fig.
A8) from one run.

:class:`DsrEvalCallback` is a ``transformers.TrainerCallback``: every N optimizer steps it samples
K test prompts (taken as ``build-videos`` takes them, DSR types interleaved) × the test seeds with
the adapter being trained (the training transformer itself, in eval mode, inside a pipeline built
once from the base model's other components), tracks and scores them exactly as ``build-videos``
does, and logs ``eval/correct@0.7``, ``eval/dsr_score`` (mean of the valid samples) and
``eval/valid`` to the trainer's logs (so to ``training_log.jsonl`` and ``--report-to``). The scored
rows of each evaluation are kept in ``<output_dir>/eval_steps/step-<N>.jsonl``. Ranks split the
(prompt, seed) pairs and gather the rows; the global RNG state is restored afterwards, so a run
with evaluations trains the same adapter as one without.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformers import TrainerCallback

from dsr.errors import ConfigError

if TYPE_CHECKING:
    from dsr.training.config import SpatialAlignConfig

__all__ = ["EVAL_DIR", "DsrEvalCallback", "eval_prompt_records", "make_eval_callback"]

log = logging.getLogger(__name__)

EVAL_DIR = "eval_steps"
#: WanConfig fields taken from the training videos' generator settings (the same
#: sampling as the data).
_GENERATION_KEYS = (
    "num_frames",
    "height",
    "width",
    "fps",
    "num_inference_steps",
    "guidance_scale",
    "negative_prompt",
    "flow_shift",
    "sampler",
    "max_sequence_length",
    "prompt_field",
)
_ROW_KEYS = ("sample_id", "prompt_id", "seed", "dsr_type", "valid", "reason", "dsr_score")


def _key_values(items: Sequence[str], option: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, eq, value = str(item).partition("=")
        if not eq or not key:
            raise ConfigError(f"{option} {item!r}: expected KEY=VALUE")
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = value
    return out


def eval_prompt_records(source: str, revision: str | None, limit: int) -> list[Mapping[str, Any]]:
    """The first ``limit`` test prompts of ``source`` in ``build-videos``' order."""
    from dsr.builders.dataset_source import resolve_dataset
    from dsr.builders.prompt_source import load_prompt_records
    from dsr.builders.work import work_order

    root = resolve_dataset(source, revision, configs=("prompts",), split="test").root
    records = work_order(load_prompt_records(root, "test"))[:limit]
    if not records:
        raise ConfigError(
            f"{source} has no test prompts: give --eval-dataset with a prompts config "
            "holding a test split"
        )
    return records


class DsrEvalCallback(TrainerCallback):
    """Samples, scores and logs the DSR metrics of the adapter every ``every`` steps."""

    def __init__(
        self,
        *,
        every: int,
        prompts: Sequence[Mapping[str, Any]],
        seeds: Sequence[int],
        base_model: str,
        generation: Mapping[str, Any],
        tracker: str,
        tracker_options: Mapping[str, Any],
        output_dir: str,
    ) -> None:
        self.every, self.prompts, self.seeds = int(every), list(prompts), [int(s) for s in seeds]
        self.base_model, self.generation = base_model, dict(generation)
        self.tracker_name, self.tracker_options = tracker, dict(tracker_options)
        self.output_dir = Path(output_dir)
        self.trainer: Any = None
        self._generator: Any = None
        self._tracker: Any = None

    def use_generation(self, recorded: Mapping[str, Any]) -> DsrEvalCallback:
        """Sample as the training videos were made (their recorded wan settings; only their size
        when they came from another generator), the user's options on top."""
        from dsr.generation import GENERATORS

        keys = (
            _GENERATION_KEYS
            if recorded.get("generator") == "wan"
            else ("num_frames", "height", "width", "fps")
        )
        self.generation = {**{k: recorded[k] for k in keys if k in recorded}, **self.generation}
        GENERATORS.check("wan", {"model": self.base_model, **self.generation})
        return self

    def attach(self, trainer: Any) -> DsrEvalCallback:
        """The trainer whose model is evaluated and whose ``log`` receives the metrics."""
        self.trainer = trainer
        return self

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if self.trainer is not None and state.global_step % self.every == 0:
            self.trainer.log(self.evaluate(state.global_step))
        return control

    def _components(self) -> tuple[Any, Any]:
        from dsr.generation.wan import WanGenerator
        from dsr.tracking import TRACKERS

        if self._generator is None:
            model = self.trainer.accelerator.unwrap_model(self.trainer.model)
            self._generator = WanGenerator(
                model=self.base_model, transformer=model.transformer, **self.generation
            )
            self._tracker = TRACKERS.create(self.tracker_name, self.tracker_options)
        return self._generator, self._tracker

    def _rows(self, rank: int, world: int) -> list[dict[str, Any]]:
        import torch

        from dsr.builders.samples import build_sample
        from dsr.prompts import parse_prompt

        generator, tracker = self._components()
        items = [(p, s) for p in self.prompts for s in self.seeds][rank::world]
        transformer = generator.transformer
        was_training = transformer.training
        transformer.eval()
        rows = []
        try:
            with torch.random.fork_rng(
                devices=[transformer.device] if transformer.device.type == "cuda" else []
            ):
                for record, seed in items:
                    (video,) = generator.generate(parse_prompt(str(record["prompt"])), [seed])
                    row = build_sample(record, seed, video, tracker, split="test", generator="wan")
                    rows.append({k: row.get(k) for k in _ROW_KEYS})
        finally:
            transformer.train(was_training)
        return rows

    def evaluate(self, step: int) -> dict[str, float]:
        """Sample, score and summarize now; every rank returns the same metrics."""
        from accelerate.utils import gather_object

        from dsr.builders.folder import atomic_write_text
        from dsr.evaluation.dsr_metrics import dsr_metrics, outcomes

        state = self.trainer.accelerator.state
        rows = self._rows(state.process_index, state.num_processes)
        if state.num_processes > 1:
            rows = list(gather_object(rows))
        rows.sort(key=lambda r: str(r["sample_id"]))
        metrics = dsr_metrics(outcomes(rows))
        if state.is_main_process:
            path = self.output_dir / EVAL_DIR / f"step-{step:06d}.jsonl"
            atomic_write_text(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
        log.info(
            "eval at step %d: Correct@0.7 %.3f over %d samples",
            step,
            metrics.correct_at(0.7),
            metrics.n_samples,
        )
        return {
            "eval/correct@0.7": metrics.correct_at(0.7),
            "eval/dsr_score": float("nan") if metrics.mean_score is None else metrics.mean_score,
            "eval/valid": metrics.validity_rate,
        }


def make_eval_callback(config: SpatialAlignConfig) -> DsrEvalCallback | None:
    """The callback ``config`` asks for (``eval_steps``), with its prompts and options checked;
    :meth:`DsrEvalCallback.use_generation` adds the training videos' sampling settings."""
    if not config.eval_steps:
        return None
    from dsr.generation import GENERATORS
    from dsr.tracking import TRACKERS

    generation = _key_values(config.eval_generator_options, "--eval-generator-options")
    tracker_options = _key_values(config.eval_tracker_options, "--eval-tracker-options")
    GENERATORS.check("wan", {"model": config.base_model, **generation})
    TRACKERS.check(config.eval_tracker, tracker_options)
    prompts = eval_prompt_records(
        config.eval_dataset or str(config.dataset),
        config.dataset_revision if not config.eval_dataset else None,
        config.eval_prompts,
    )
    return DsrEvalCallback(
        every=config.eval_steps,
        prompts=prompts,
        seeds=range(config.eval_seeds),
        base_model=config.base_model,
        generation=generation,
        tracker=config.eval_tracker,
        tracker_options=tracker_options,
        output_dir=str(config.output_dir),
    )
