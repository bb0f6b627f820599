"""The authors' sampler for Wan (docs/method.md §2): DiffSynth-Studio's flow-matching Euler on
its own sigma grid.

DiffSynth takes ``linspace(1, 0, steps + 1)[:-1]`` as the unshifted sigmas, shifts them
(``shift·σ / (1 + (shift − 1)·σ)``, shift 5 for the paper) and steps with Euler to σ = 0. diffusers'
``FlowMatchEulerDiscreteScheduler`` is the same sampler with a slightly different default grid, so
this subclass only supplies DiffSynth's grid when the pipeline asks for ``num_inference_steps``.
With ``bf16_timesteps`` it also rounds the timesteps the pipeline hands the transformer to bf16, as
DiffSynth does (``timestep.to(torch_dtype)``); the Euler steps keep the float32 sigmas, as in
DiffSynth, whose ``step`` is given the float32 timestep.
Imports diffusers: load it only where a pipeline is built.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from diffusers import FlowMatchEulerDiscreteScheduler

__all__ = ["DiffSynthEulerScheduler", "diffsynth_sigmas"]


def diffsynth_sigmas(steps: int) -> np.ndarray:
    """DiffSynth's unshifted sigma grid of ``steps`` sampling steps."""
    return np.linspace(1.0, 0.0, steps + 1)[:-1]


class DiffSynthEulerScheduler(FlowMatchEulerDiscreteScheduler):
    """Flow-matching Euler with DiffSynth's sigma grid, shifted by ``shift`` (5.0 in the paper)."""

    #: Round ``timesteps`` (what the transformer is conditioned on) to bf16; sigmas stay float32.
    bf16_timesteps: bool = False

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
        if self.bf16_timesteps:
            import torch

            grid: torch.Tensor = cast(Any, self).timesteps  # set by the untyped base class
            self.timesteps = grid.to(torch.bfloat16).to(grid.dtype)
