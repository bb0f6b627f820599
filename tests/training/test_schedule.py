"""The optimizer and learning-rate schedule of a run: the authors' (docs/method.md §6) by default,
as the Trainer really applies them."""

from __future__ import annotations

import math

import pytest
import torch

from dsr.errors import ConfigError
from dsr.training.config import SpatialAlignConfig
from dsr.training.trainer import SpatialAlignTrainer


def authors_lr_lambda(current_step: int) -> float:
    """The authors' LambdaLR multiplier (train.py's configure_optimizers), written out."""
    warmup_steps, total_steps = 300, 3000
    if current_step < warmup_steps:
        return current_step / warmup_steps
    progress = (current_step - warmup_steps) / (total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


class _Adapter(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lora_A = torch.nn.Linear(4, 2, bias=False)


def _applied_rates(config: SpatialAlignConfig, steps: int) -> list[float]:
    """The rate of each optimizer step, stepping optimizer and scheduler as the Trainer's loop
    does (optimizer.step, then lr_scheduler.step) with the ones the Trainer creates."""
    trainer = SpatialAlignTrainer(model=_Adapter(), args=config)
    trainer.create_optimizer_and_scheduler(num_training_steps=config.max_steps)
    rates = []
    for _ in range(steps):
        rates.append(trainer.optimizer.param_groups[0]["lr"])
        trainer.optimizer.step()
        trainer.lr_scheduler.step()
    return rates


def test_default_schedule_is_the_authors_lambda_lr(tmp_path) -> None:
    config = SpatialAlignConfig(output_dir=str(tmp_path), use_cpu=True, report_to="none")
    rates = _applied_rates(config, 2400)
    for step in (0, 150, 300, 1650, 2399):
        assert rates[step] == pytest.approx(1e-4 * authors_lr_lambda(step), rel=1e-12, abs=1e-20)
    assert rates[0] == 0.0  # the first step of the authors' warm-up has a rate of 0
    assert rates[2399] / 1e-4 == pytest.approx(0.117, abs=5e-4)  # not 0: horizon 3000


def test_optimizer_is_adamw_with_weight_decay_001_and_no_clipping(tmp_path) -> None:
    config = SpatialAlignConfig(output_dir=str(tmp_path), use_cpu=True, report_to="none")
    assert config.max_grad_norm == 0.0  # transformers: 0 disables clipping
    trainer = SpatialAlignTrainer(model=_Adapter(), args=config)
    optimizer = trainer.create_optimizer()
    assert "AdamW" in type(optimizer).__name__
    group = optimizer.param_groups[0]
    assert (group["weight_decay"], group["betas"], group["eps"]) == (0.01, (0.9, 0.999), 1e-8)


def test_horizon_equal_to_max_steps_is_a_cosine_to_zero(tmp_path) -> None:
    config = SpatialAlignConfig(
        output_dir=str(tmp_path),
        use_cpu=True,
        report_to="none",
        max_steps=20,
        warmup_steps=4,
        cosine_horizon=20,
    )
    rates = _applied_rates(config, 20)
    expected = [
        1e-4 * (k / 4 if k < 4 else 0.5 * (1 + math.cos(math.pi * (k - 4) / 16))) for k in range(20)
    ]
    assert rates == pytest.approx(expected, rel=1e-12, abs=1e-20)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"cosine_horizon": 1000}, "max_steps=2400"),
        ({"cosine_horizon": 200}, "cosine_horizon=200"),
        ({"lr_scheduler_kwargs": {"num_cycles": 0.5}}, "num_cycles"),
    ],
)
def test_contradicting_schedules_are_refused(tmp_path, settings, field) -> None:
    with pytest.raises(ConfigError) as err:
        SpatialAlignConfig(output_dir=str(tmp_path), **settings)
    assert field in str(err.value)
