"""Training noise levels of the rectified-flow objective (SPEC §6), as pure numpy.

``uniform`` (the authors'): DiffSynth's ``FlowMatchScheduler(shift=5, sigma_min=0,
extra_one_step=True).set_timesteps(1000, training=True)``, i.e. the grid
σ_i = linspace(1, 0, 1001)[:-1], shifted σ' = sσ / (1 + (s − 1)σ), timestep t = 1000·σ', with one
index drawn uniformly per pair and no loss weighting over timesteps.

``logit_normal`` (SD3's alternative): σ = sigmoid(u), u ~ N(mean, std), then the same shift.

A draw is a pure function of a ``numpy.random.Generator``, so the trainer derives it from the
training seed and the pair's draw index and a resumed run sees the same noise levels.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TIMESTEP_SAMPLING", "draw_sigma", "shift_sigmas", "training_sigmas"]

TIMESTEP_SAMPLING = ("uniform", "logit_normal")


def shift_sigmas(sigmas: np.ndarray, shift: float) -> np.ndarray:
    """Wan's timestep shift σ' = shift·σ / (1 + (shift − 1)·σ)."""
    sigmas = np.asarray(sigmas, dtype=np.float64)
    return shift * sigmas / (1.0 + (shift - 1.0) * sigmas)


def training_sigmas(num_train_timesteps: int = 1000, shift: float = 5.0) -> np.ndarray:
    """The shifted training grid: linspace(1, 0, N + 1)[:-1], shifted; N values from 1 down."""
    return shift_sigmas(np.linspace(1.0, 0.0, num_train_timesteps + 1)[:-1], shift)


def draw_sigma(
    rng: np.random.Generator,
    *,
    sampling: str = "uniform",
    shift: float = 5.0,
    num_train_timesteps: int = 1000,
    logit_mean: float = 0.0,
    logit_std: float = 1.0,
) -> tuple[float, float]:
    """One noise level: ``(sigma, timestep)`` with timestep = num_train_timesteps · sigma."""
    if sampling == "uniform":
        sigma = float(
            training_sigmas(num_train_timesteps, shift)[rng.integers(num_train_timesteps)]
        )
    elif sampling == "logit_normal":
        u = rng.normal(logit_mean, logit_std)
        sigma = float(shift_sigmas(np.array(1.0 / (1.0 + np.exp(-u))), shift))
    else:
        raise ValueError(
            f"timestep sampling {sampling!r}: choose one of {', '.join(TIMESTEP_SAMPLING)}"
        )
    return sigma, sigma * num_train_timesteps
