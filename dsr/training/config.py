"""``SpatialAlignConfig``: ``transformers.TrainingArguments`` plus the SpatialAlign options.

TRL's pattern: one config dataclass per algorithm, every new field with help text, defaults set to
the method's. Any ``TrainingArguments`` field works as usual (``report_to``, ``save_steps``,
``resume_from_checkpoint``, ``seed``, ...). Two resolutions happen here, once:

* ``bf16`` unset → on when a CUDA GPU supports it (the paper trains in bf16), off on the CPU;
* ``gradient_accumulation_steps`` unset → ``effective_batch_size / (per-device batch × devices)``,
  which must divide exactly (the paper's effective batch is 48);
* ``cosine_horizon`` → transformers' own cosine schedule with ``lr_scheduler_kwargs["num_cycles"]``
  chosen so that its multiplier is the authors' ``0.5·(1 + cos(π·(k − warm-up)/(horizon −
  warm-up)))`` at every step k past the warm-up (docs/method.md §6). transformers' warm-up is the
  authors' as well: k / warm-up, so the first optimizer step has a rate of 0.

``push_to_hub=True`` with ``hub_model_id`` means what it means for ``TrainingArguments`` (without
it, the repo is ``<user>/<name of output_dir>``), done dsr's way: the finished adapter folder is
pushed once, tagged with ``version`` (the Trainer never pushes checkpoints).
``gradient_checkpointing`` through transformers' hook is refused (diffusers models have
``enable_gradient_checkpointing``; the trainer calls it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import TrainingArguments

from dsr.errors import ConfigError
from dsr.progress import stderr_is_interactive
from dsr.training.options import SpatialAlignOptions

__all__ = ["SpatialAlignConfig"]

log = logging.getLogger(__name__)

#: TrainingArguments fields that are secrets or machine-local and never written to a card.
PRIVATE_FIELDS = (
    "hub_token",
    "push_to_hub_token",
    "logging_dir",
    "output_dir",
    "resume_from_checkpoint",
)


# SpatialAlignOptions widens TrainingArguments' bf16 and gradient_accumulation_steps to Optional
# (None: derive them); __post_init__ resolves both before TrainingArguments sees them. A checker
# reads that as incompatible base classes, which by design they are until then.
@dataclass
class SpatialAlignConfig(SpatialAlignOptions, TrainingArguments):  # type: ignore[misc]
    """All settings of a SpatialAlign run (see ``dsr train --help``)."""

    def __post_init__(self) -> None:
        self.validate_options()
        if self.output_dir is None:
            raise ConfigError(
                "output_dir is not set: give the folder for the adapter and checkpoints "
                "(--output-dir)"
            )
        self._check_push()
        self._cpu_processes()
        explicit_accumulation = self.gradient_accumulation_steps
        if self.gradient_accumulation_steps is None:
            self.gradient_accumulation_steps = 1
        if self.bf16 is None:
            self.bf16 = _cuda_bf16(self.use_cpu)
        if not _cuda(self.use_cpu):
            self.dataloader_pin_memory = False  # pinned memory only helps host-to-GPU copies
        if self.disable_tqdm is None:  # a log file gets the Trainer's periodic log lines instead
            self.disable_tqdm = not stderr_is_interactive()
        TrainingArguments.__post_init__(self)
        self._resolve_accumulation(explicit_accumulation)
        self._resolve_cosine_horizon()

    def _resolve_cosine_horizon(self) -> None:
        kind = getattr(self.lr_scheduler_type, "value", self.lr_scheduler_type)
        if kind != "cosine" or self.max_steps <= 0:
            return
        warmup = self.get_warmup_steps(self.max_steps)
        horizon = self.cosine_horizon or self.max_steps
        cycles = (self.max_steps - warmup) / (2.0 * max(1, horizon - warmup))
        given_kwargs = self.lr_scheduler_kwargs  # TrainingArguments.__post_init__ parsed a str
        kwargs = dict(given_kwargs) if isinstance(given_kwargs, dict) else {}
        given = kwargs.get("num_cycles")
        if given is not None and abs(float(given) - cycles) > 1e-12:
            raise ConfigError(
                f"lr_scheduler_kwargs num_cycles={given} contradicts cosine_horizon="
                f"{self.cosine_horizon} (which needs {cycles:.6g}): give --cosine-horizon only"
            )
        self.lr_scheduler_kwargs = {**kwargs, "num_cycles": cycles}

    def _cpu_processes(self) -> None:
        """Several processes (``torchrun``, ``accelerate launch``) and no CUDA: train on the CPU
        (gloo). Without ``use_cpu`` transformers would not join the processes into one group,
        and every process would train alone as rank 0 of 1."""
        import os

        if not self.use_cpu and int(os.environ.get("WORLD_SIZE", "1")) > 1 and not _cuda(False):
            log.info(
                "%s processes and no CUDA device: training on the CPU (use_cpu)",
                os.environ["WORLD_SIZE"],
            )
            self.use_cpu = True

    def _check_push(self) -> None:
        """``version`` and ``force`` need a push (the repo of a push without ``hub_model_id`` is
        named in :func:`dsr.training.run.train`, before training, as ``TrainingArguments`` names
        it: ``<user>/<name of output_dir>``)."""
        if (self.version or self.force) and not self.push_to_hub:
            flag = "--version" if self.version else "--force"
            raise ConfigError(
                f"{flag} applies to a push: add --push-to-hub --hub-model-id namespace/name, or "
                f"drop {flag}"
            )

    def _resolve_accumulation(self, explicit: int | None) -> None:
        if self.effective_batch_size is None:
            return
        per_step = self.per_device_train_batch_size * max(1, self.world_size)
        steps, rest = divmod(self.effective_batch_size, per_step)
        if rest or steps < 1:
            raise ConfigError(
                f"effective_batch_size={self.effective_batch_size} is not a multiple of "
                f"per_device_train_batch_size ({self.per_device_train_batch_size}) x devices "
                f"({self.world_size}): change one of them, or unset effective_batch_size and give "
                "gradient_accumulation_steps"
            )
        if explicit is not None and explicit != steps:
            raise ConfigError(
                f"gradient_accumulation_steps={explicit} contradicts "
                f"effective_batch_size={self.effective_batch_size} (which needs {steps}): give "
                "one of the two"
            )
        self.gradient_accumulation_steps = steps

    @property
    def total_batch_size(self) -> int:
        """Pairs per optimizer step over all devices."""
        return self.per_device_train_batch_size * self.accumulation_steps * max(1, self.world_size)

    @property
    def accumulation_steps(self) -> int:
        """``gradient_accumulation_steps`` as resolved by ``__post_init__``
        (never None after it)."""
        if self.gradient_accumulation_steps is None:
            raise ConfigError(
                "gradient_accumulation_steps is unset: build the config with "
                "SpatialAlignConfig(...)"
            )
        return self.gradient_accumulation_steps

    @property
    def output_path(self) -> Path:
        """``output_dir`` as a path (``__post_init__`` refuses a config without one)."""
        if self.output_dir is None:
            raise ConfigError(
                "output_dir is not set: give the folder for the adapter and checkpoints "
                "(--output-dir)"
            )
        return Path(self.output_dir)

    def public_dict(self) -> dict[str, Any]:
        """The settings without secrets or local paths (for training_config.json and the card)."""
        out = {k: v for k, v in self.to_dict().items() if k not in PRIVATE_FIELDS}
        out["total_batch_size"] = self.total_batch_size
        return out


def _cuda(use_cpu: bool) -> bool:
    import torch

    return bool(not use_cpu and torch.cuda.is_available())


def _cuda_bf16(use_cpu: bool) -> bool:
    import torch

    return _cuda(use_cpu) and bool(torch.cuda.is_bf16_supported())
