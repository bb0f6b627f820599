"""The torch dataset of pair draws: item ``k`` is draw ``k`` of
the :class:`~dsr.training.data.PairSet` with its cached latents, text embedding, noise
level and noise.

Everything random about item ``k`` (prompt, winner, loser, sigma, noise) is derived from
``(seed, k)`` alone, so the item does not depend on the rank, the batch it lands in, or whether the
run was resumed. The trainer reads the items in index order and ``accelerate`` hands consecutive
batches to the ranks, so each rank trains on its own draws.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from dsr.training.cache import CacheIndex
from dsr.training.data import PairSet
from dsr.training.timesteps import NoiseSettings

if TYPE_CHECKING:
    from dsr.training.families import TrainingFamily

__all__ = ["NoiseSettings", "PairDraws"]


class PairDraws(torch.utils.data.Dataset[dict[str, Any]]):
    """``num_draws`` pair draws, each a dict of tensors ready for the SpatialAlign step."""

    def __init__(
        self,
        pairs: PairSet,
        cache: CacheIndex,
        *,
        num_draws: int,
        seed: int,
        noise: NoiseSettings | None = None,
        family: TrainingFamily | None = None,
    ) -> None:
        """``family`` draws the noise levels and names the text tensors (default: Wan)."""
        from dsr.training.families import default_family

        self.pairs, self.cache, self.num_draws, self.seed = pairs, cache, num_draws, seed
        self.noise = noise or NoiseSettings()
        self.family: TrainingFamily = family if family is not None else default_family()

    def __len__(self) -> int:
        return self.num_draws

    def __getitem__(self, k: int) -> dict[str, Any]:
        prompt, chosen, rejected = self.pairs.draw(self.seed, k)
        x_w, x_l = self.cache.load_latents(chosen), self.cache.load_latents(rejected)
        if x_w.shape != x_l.shape:
            raise ValueError(
                f"latents of {chosen} {tuple(x_w.shape)} and {rejected} {tuple(x_l.shape)} differ: "
                "set train_num_frames/train_height/train_width to one size"
            )
        rng = np.random.default_rng([self.seed, 0x7153, k])
        sigma, timestep = self.family.draw(rng, self.noise)
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        noise_w = torch.randn(x_w.shape, generator=gen)
        shared = self.noise.shared_noise
        noise_l = noise_w.clone() if shared else torch.randn(x_l.shape, generator=gen)
        return {
            **self._text(prompt.prompt_id),
            "x0_chosen": x_w,
            "x0_rejected": x_l,
            "noise_chosen": noise_w,
            "noise_rejected": noise_l,
            "sigma": torch.tensor(sigma, dtype=torch.float32),
            "timestep": torch.tensor(timestep, dtype=torch.float32),
            "draw": k,
            "prompt_id": prompt.prompt_id,
            "chosen_id": chosen,
            "rejected_id": rejected,
        }

    def _text(self, prompt_id: str) -> dict[str, Any]:
        """``prompt_embeds``, and ``text_extra`` with the family's other text tensors if any."""
        if len(self.family.text_keys) == 1:
            return {"prompt_embeds": self.cache.load_text(prompt_id)}
        tensors = self.cache.load_text_tensors(prompt_id)
        return {"prompt_embeds": tensors.pop("prompt_embeds"), "text_extra": tensors}
