"""Training noise levels of the rectified-flow objective (docs/method.md §6), as pure numpy.

``uniform`` (the authors'): DiffSynth's ``FlowMatchScheduler(shift=5, sigma_min=0,
extra_one_step=True).set_timesteps(1000, training=True)``, i.e. the grid
σ_i = linspace(1, 0, 1001)[:-1], shifted σ' = sσ / (1 + (s − 1)σ), timestep t = 1000·σ', with one
index drawn uniformly per pair and no loss weighting over timesteps.

``logit_normal`` (SD3's alternative): σ = sigmoid(u), u ~ N(mean, std), then the same shift.

``timestep_dtype="bfloat16"`` (the authors', ``--paper-exact``): DiffSynth holds the drawn
timestep in bf16 before ``add_noise`` and the transformer. The transformer is conditioned on the
bf16 value (up to 2 away from the grid's, as bf16 keeps 8 significant bits), and ``add_noise``
takes the σ of the grid timestep nearest to it, so the 1000 grid levels collapse to 294 distinct
ones. The grid is then DiffSynth's own float32 one.

A draw is a pure function of a ``numpy.random.Generator``, so the trainer derives it from the
training seed and the pair's draw index and a resumed run sees the same noise levels.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

__all__ = [
    "TIMESTEP_SAMPLING",
    "NoiseSettings",
    "bf16_round",
    "diffsynth_training_grid",
    "draw_sigma",
    "shift_sigmas",
    "snap_to_bf16",
    "training_grid_point",
    "training_sigmas",
]

TIMESTEP_SAMPLING = ("uniform", "logit_normal")


def shift_sigmas(sigmas: np.ndarray, shift: float) -> np.ndarray:
    """Wan's timestep shift σ' = shift·σ / (1 + (shift − 1)·σ)."""
    sigmas = np.asarray(sigmas, dtype=np.float64)
    return shift * sigmas / (1.0 + (shift - 1.0) * sigmas)


def training_sigmas(num_train_timesteps: int = 1000, shift: float = 5.0) -> np.ndarray:
    """The shifted training grid: linspace(1, 0, N + 1)[:-1], shifted; N values from 1 down."""
    return shift_sigmas(np.linspace(1.0, 0.0, num_train_timesteps + 1)[:-1], shift)


@functools.lru_cache(maxsize=4)
def diffsynth_training_grid(
    num_train_timesteps: int = 1000, shift: float = 5.0
) -> tuple[np.ndarray, np.ndarray]:
    """``(sigmas, timesteps)`` of the training grid computed as DiffSynth computes it, in torch
    float32 (its linspace differs from numpy's in the last bit), returned as float64 arrays."""
    import torch

    sigmas = torch.linspace(1.0, 0.0, num_train_timesteps + 1)[:-1]
    sigmas = shift * sigmas / (1 + (shift - 1) * sigmas)
    timesteps = sigmas * num_train_timesteps
    return sigmas.double().numpy(), timesteps.double().numpy()


def bf16_round(values: np.ndarray | float) -> np.ndarray:
    """``values`` rounded to float32, then to the nearest bfloat16 (ties to even), as a torch
    cast to ``torch.bfloat16`` rounds finite numbers; returned as float64."""
    bits = np.atleast_1d(np.asarray(values, dtype=np.float32)).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32).astype(np.float64)


def snap_to_bf16(
    timestep: float, grid_sigmas: np.ndarray, grid_timesteps: np.ndarray
) -> tuple[float, float]:
    """``(sigma, timestep)`` as DiffSynth uses a drawn timestep held in bf16: the bf16 timestep,
    and the σ of the grid timestep nearest to it (the first one on a tie, as ``torch.argmin``)."""
    snapped = float(bf16_round(timestep)[0])
    nearest = int(np.argmin(np.abs(grid_timesteps - snapped)))
    return float(grid_sigmas[nearest]), snapped


def draw_sigma(
    rng: np.random.Generator,
    *,
    sampling: str = "uniform",
    shift: float = 5.0,
    num_train_timesteps: int = 1000,
    logit_mean: float = 0.0,
    logit_std: float = 1.0,
    timestep_dtype: str = "float32",
) -> tuple[float, float]:
    """One noise level: ``(sigma, timestep)`` with timestep = num_train_timesteps · sigma, or both
    as the authors' bf16 timestep gives them (``timestep_dtype="bfloat16"``, module docstring;
    with logit_normal sampling σ is then the bf16 timestep / num_train_timesteps)."""
    if sampling == "uniform":
        index = int(rng.integers(num_train_timesteps))
        return training_grid_point(index, num_train_timesteps, shift, timestep_dtype)
    if sampling != "logit_normal":
        raise ValueError(
            f"timestep sampling {sampling!r}: choose one of {', '.join(TIMESTEP_SAMPLING)}"
        )
    u = rng.normal(logit_mean, logit_std)
    sigma = float(shift_sigmas(np.array(1.0 / (1.0 + np.exp(-u))), shift))
    if timestep_dtype == "bfloat16":
        snapped = float(bf16_round(sigma * num_train_timesteps)[0])
        return snapped / num_train_timesteps, snapped
    return sigma, sigma * num_train_timesteps


def training_grid_point(
    index: int,
    num_train_timesteps: int = 1000,
    shift: float = 5.0,
    timestep_dtype: str = "float32",
) -> tuple[float, float]:
    """``(sigma, timestep)`` of grid index ``index`` (0: σ = 1), as drawn in training."""
    if timestep_dtype == "bfloat16":
        grid_sigmas, grid_timesteps = diffsynth_training_grid(num_train_timesteps, shift)
        return snap_to_bf16(float(grid_timesteps[index]), grid_sigmas, grid_timesteps)
    sigma = float(training_sigmas(num_train_timesteps, shift)[index])
    return sigma, sigma * num_train_timesteps


@dataclass(frozen=True)
class NoiseSettings:
    """How noise levels and noise are drawn (from the config's fields of the same names)."""

    timestep_sampling: str = "uniform"
    timestep_shift: float = 5.0
    num_train_timesteps: int = 1000
    logit_mean: float = 0.0
    logit_std: float = 1.0
    shared_noise: bool = False
    timestep_dtype: str = "float32"
