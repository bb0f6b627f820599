"""``SpatialAlignTrainer``: a ``transformers.Trainer`` that overrides only what differs.

* :meth:`compute_loss` — one SpatialAlign step on a batch of pair draws: noise both latents at the
  pair's shared noise level (the model family's noising and target, :mod:`dsr.training.families`:
  velocities for the flow-matching models, v for CogVideoX), predict them with the adapted
  transformer (winner and loser in one batched forward, or one after the other), predict them
  again with the adapter disabled under ``torch.no_grad()`` (the reference), and apply
  :func:`~dsr.training.loss.dpo_zo_loss`. The ZO term reuses these predictions: no extra forward.
* :meth:`log` — adds the step's mean ``loss/*`` and ``rewards/*`` metrics (averaged over gradient
  accumulation and over ranks), as TRL's trainers do.
* :meth:`_save` / :meth:`_load_from_checkpoint` — the adapter only, in diffusers' LoRA format;
  never the base weights. Checkpoints hold adapter + optimizer + scheduler + RNG states.
* :meth:`_get_train_sampler` — items in index order (their randomness is in the draws themselves).
* the logs on the terminal — aligned ``name value`` lines (:mod:`dsr.training.log_lines`).
* :meth:`init_hf_repo` / :meth:`push_to_hub` / :meth:`_push_from_checkpoint` — nothing: with
  ``push_to_hub`` dsr pushes the finished adapter folder once, tagged (``dsr.training.run``).

Everything else (DDP / ``accelerate launch``, gradient accumulation, bf16 autocast, ``report_to``,
progress bar, checkpoint rotation, resuming) is the Trainer's own.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Iterator, Sized
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import torch
from transformers import Trainer

from dsr.training.families.wan import WanFamily
from dsr.training.log_lines import use_log_lines
from dsr.training.loss import dpo_zo_loss
from dsr.training.model import load_lora, save_lora

if TYPE_CHECKING:
    from dsr.training.config import SpatialAlignConfig

__all__ = ["SpatialAlignTrainer", "collate_draws"]

_TENSORS = (
    "x0_chosen",
    "x0_rejected",
    "noise_chosen",
    "noise_rejected",
    "sigma",
    "timestep",
    "prompt_embeds",
)


def collate_draws(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack the tensors of a list of draws; ids stay lists."""
    out: dict[str, Any] = {k: torch.stack([it[k] for it in items]) for k in _TENSORS}
    if "text_extra" in items[0]:
        keys = items[0]["text_extra"]
        out["text_extra"] = {k: torch.stack([it["text_extra"][k] for it in items]) for k in keys}
    for key in ("draw", "prompt_id", "chosen_id", "rejected_id"):
        out[key] = [it[key] for it in items]
    return out


class SpatialAlignTrainer(Trainer):
    """Trains a LoRA adapter on DSR-Score preference pairs with DPO + ZO (docs/method.md §6)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("data_collator", collate_draws)
        super().__init__(*args, **kwargs)
        self.model_accepts_loss_kwargs = (
            False  # the loss is a mean per micro-batch: scale by accumulation
        )
        self._metrics: dict[str, list[float]] = defaultdict(list)
        self._draw_log: list[dict[str, Any]] = []
        use_log_lines(self)

    @property
    def spatial_args(self) -> SpatialAlignConfig:
        """``self.args`` as what this trainer is built with: the Trainer types it as
        ``TrainingArguments``, which lacks the SpatialAlign fields."""
        return cast("SpatialAlignConfig", self.args)

    # -- data ------------------------------------------------------------------------------
    def _get_train_sampler(self, train_dataset: Any = None) -> torch.utils.data.Sampler[int]:
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if not isinstance(dataset, Sized):  # PairDraws has a length; None or a stream would not
            raise ValueError(
                "Trainer: training requires a train_dataset with a length (map-style)."
            )
        return torch.utils.data.SequentialSampler(dataset)

    # -- the step --------------------------------------------------------------------------
    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        args = self.spatial_args
        family = getattr(self.accelerator.unwrap_model(model), "family", None) or _WAN
        x0 = torch.cat([inputs["x0_chosen"], inputs["x0_rejected"]])
        noise = torch.cat([inputs["noise_chosen"], inputs["noise_rejected"]])
        sigma = inputs["sigma"].repeat(2).view(-1, *([1] * (x0.dim() - 1)))
        timestep = inputs["timestep"].repeat(2)
        noisy, target = family.noisy_and_target(x0, noise, sigma, timestep)
        text = inputs["prompt_embeds"].repeat(2, 1, 1)
        extra = {k: _twice(v) for k, v in inputs.get("text_extra", {}).items()} or None
        sequential = args.pair_forward == "sequential"
        ref = self._reference(model, noisy, timestep, text, sequential, extra)
        pred = model(noisy, timestep, text, sequential=sequential, text_extra=extra)
        pred_w, pred_l = pred.chunk(2)
        ref_w, ref_l = ref.chunk(2)
        target_w, target_l = target.chunk(2)
        loss, metrics = dpo_zo_loss(
            pred_w,
            pred_l,
            ref_w,
            ref_l,
            target_w,
            target_l,
            beta=args.beta,
            lambda_zo=args.lambda_zo,
            lambda_sft=args.lambda_sft,
            margin_clip=args.margin_clip,
            reg=args.reg,
        )
        self._record(metrics, inputs)
        return (loss, {"pred": pred.detach()}) if return_outputs else loss

    def _reference(
        self,
        model: Any,
        noisy: torch.Tensor,
        timestep: torch.Tensor,
        text: torch.Tensor,
        sequential: bool,
        extra: dict[str, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """The frozen base model's prediction: the same network with the adapter switched off
        (called on the unwrapped module: DDP has nothing to synchronize here)."""
        base = self.accelerator.unwrap_model(model)
        with _adapters_disabled(base.transformer), torch.no_grad():
            return base(noisy, timestep, text, sequential=sequential, text_extra=extra)

    # -- logging ---------------------------------------------------------------------------
    def _record(self, metrics: dict[str, torch.Tensor], inputs: dict[str, Any]) -> None:
        names = sorted(metrics)
        values = torch.stack([metrics[n].float() for n in names]).to(self.accelerator.device)
        values = self.accelerator.reduce(values, reduction="mean")
        for name, value in zip(names, values.tolist(), strict=True):
            self._metrics[name].append(value)
        self._metrics["timestep"].append(float(inputs["timestep"].float().mean()))
        if self.spatial_args.log_pair_draws:
            rank = self.args.process_index
            for i, k in enumerate(inputs["draw"]):
                self._draw_log.append(
                    {
                        "step": self.state.global_step + 1,
                        "rank": rank,
                        "draw": int(k),
                        "prompt_id": inputs["prompt_id"][i],
                        "chosen": inputs["chosen_id"][i],
                        "rejected": inputs["rejected_id"][i],
                        "sigma": float(inputs["sigma"][i]),
                    }
                )

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if self._metrics and "loss" in logs:
            logs.update({k: sum(v) / len(v) for k, v in self._metrics.items()})
            self._metrics.clear()
        self._flush_draws()
        super().log(logs, start_time)

    def _flush_draws(self) -> None:
        if not self._draw_log:
            return
        path = (
            self.spatial_args.output_path / "pair_draws" / f"rank-{self.args.process_index}.jsonl"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.writelines(json.dumps(d) + "\n" for d in self._draw_log)
        self._draw_log.clear()

    # -- saving and resuming: the adapter only ---------------------------------------------
    def _save(
        self, output_dir: str | None = None, state_dict: dict[str, Any] | None = None
    ) -> None:
        if not self.args.should_save:
            return
        folder = Path(output_dir) if output_dir else self.spatial_args.output_path
        folder.mkdir(parents=True, exist_ok=True)
        save_lora(self.accelerator.unwrap_model(self.model).transformer, folder)

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model: Any = None) -> None:
        target = self.accelerator.unwrap_model(model if model is not None else self.model)
        load_lora(target.transformer, resume_from_checkpoint)

    # -- the Hub: dsr pushes the finished folder once (never a checkpoint) ------------------
    def init_hf_repo(self, token: str | None = None, private: bool | None = None) -> None:
        return None

    def push_to_hub(self, *args: Any, **kwargs: Any) -> Any:
        return None

    def _push_from_checkpoint(self, checkpoint_folder: str) -> None:
        return None

    def train(self, *args: Any, **kwargs: Any) -> Any:
        """The Trainer's loop; activation checkpointing is switched on the diffusers way."""
        with _diffusers_checkpointing(self):
            return super().train(*args, **kwargs)


_WAN = WanFamily()


def _twice(t: torch.Tensor) -> torch.Tensor:
    """``t`` stacked twice along the batch (winners, then losers)."""
    return t.repeat(2, *([1] * (t.dim() - 1)))


@contextlib.contextmanager
def _adapters_disabled(model: Any) -> Iterator[None]:
    model.disable_adapters()
    try:
        yield
    finally:
        model.enable_adapters()


@contextlib.contextmanager
def _diffusers_checkpointing(trainer: Trainer) -> Iterator[None]:
    """diffusers models have ``enable_gradient_checkpointing()``, not transformers'
    ``activation_checkpointing_enable()``: enable it on the model and hide the flag from the Trainer
    for the duration of ``train`` (it would call the transformers method)."""
    args = trainer.args
    wanted = bool(args.activation_checkpointing)
    if wanted:
        trainer.accelerator.unwrap_model(trainer.model).transformer.enable_gradient_checkpointing()
    args.activation_checkpointing = args.gradient_checkpointing = False
    try:
        yield
    finally:
        args.activation_checkpointing = args.gradient_checkpointing = wanted
