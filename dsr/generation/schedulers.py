"""The authors' sampler for Wan (SPEC §2): DiffSynth-Studio's flow-matching Euler on
its own sigma grid.

DiffSynth takes ``linspace(1, 0, steps + 1)[:-1]`` as the unshifted sigmas, shifts them
(``shift·σ / (1 + (shift − 1)·σ)``, shift 5 for the paper) and steps with Euler to σ = 0. diffusers'
``FlowMatchEulerDiscreteScheduler`` is the same sampler with a slightly different default grid, so
this subclass only supplies DiffSynth's grid when the pipeline asks for ``num_inference_steps``.
Imports diffusers: load it only where a pipeline is built.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from diffusers import FlowMatchEulerDiscreteScheduler

__all__ = ["DiffSynthEulerScheduler", "diffsynth_sigmas"]


def diffsynth_sigmas(steps: int) -> np.ndarray:
    """DiffSynth's unshifted sigma grid of ``steps`` sampling steps."""
    return np.linspace(1.0, 0.0, steps + 1)[:-1]


class DiffSynthEulerScheduler(FlowMatchEulerDiscreteScheduler):
    """Flow-matching Euler with DiffSynth's sigma grid, shifted by ``shift`` (5.0 in the paper)."""

    def set_timesteps(
        self,
        num_inference_steps: int | None = None,
        device: Any = None,
        sigmas: Any = None,
        mu: float | None = None,
        timesteps: Any = None,
    ) -> None:
        if sigmas is None and timesteps is None and num_inference_steps:
            sigmas = diffsynth_sigmas(num_inference_steps).tolist()
        super().set_timesteps(
            num_inference_steps, device=device, sigmas=sigmas, mu=mu, timesteps=timesteps
        )
