"""The SpatialAlign objective (docs/method.md §6): flow-matching Diffusion-DPO plus a regularizer.

For a pair (winner w, loser l) noised at the same timestep, with ``pred`` the adapted model's
velocity prediction, ``ref`` the frozen base model's and ``target = noise − x0``::

    e_θ  = mean over all non-batch elements of (pred − target)²       (per sample)
    e_ref = mean over all non-batch elements of (ref − target)²
    z     = clip(β · ((e_ref^w − e_θ^w) − (e_ref^l − e_θ^l)), −c, c)
    L_DPO = mean over the batch of −log σ(z)
    L_ZO  = mean((pred^w − ref^w)²) + mean((pred^l − ref^l)²)          (reg="zo")
    L_SFT = mean over the batch of e_θ^w + e_θ^l                       (reg="sft", the ablation)
    loss  = L_DPO + λ_ZO · L_ZO     (or + λ_SFT · L_SFT, or L_DPO alone with reg="none")

Everything is computed in float32 whatever the dtype of the predictions. The metrics use TRL's
names; ``rewards/chosen`` is e_ref^w − e_θ^w (how much better than the base the adapted model
denoises the winner), ``rewards/margins`` their difference before clipping and β.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["REGULARIZERS", "dpo_zo_loss", "per_sample_mse"]

REGULARIZERS = ("zo", "sft", "none")


def per_sample_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean of (a − b)² over every dimension but the first, in float32; shape (batch,)."""
    diff = a.float() - b.float()
    return diff.pow(2).flatten(1).mean(dim=1)


def dpo_zo_loss(
    pred_w: torch.Tensor,
    pred_l: torch.Tensor,
    ref_w: torch.Tensor,
    ref_l: torch.Tensor,
    target_w: torch.Tensor,
    target_l: torch.Tensor,
    *,
    beta: float = 1.0,
    lambda_zo: float = 0.25,
    lambda_sft: float = 0.25,
    margin_clip: float = 5.0,
    reg: str = "zo",
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The SpatialAlign loss of a batch of pairs and its metrics (detached scalars).

    ``pred_*`` carry gradients; ``ref_*`` and ``target_*`` are treated as constants.
    """
    import torch.nn.functional as F

    if reg not in REGULARIZERS:
        raise ValueError(f"reg={reg!r}: choose one of {', '.join(REGULARIZERS)}")
    ref_w, ref_l = ref_w.detach(), ref_l.detach()
    err_w, err_l = per_sample_mse(pred_w, target_w), per_sample_mse(pred_l, target_l)
    ref_err_w, ref_err_l = per_sample_mse(ref_w, target_w), per_sample_mse(ref_l, target_l)
    reward_w, reward_l = ref_err_w - err_w, ref_err_l - err_l
    margin = reward_w - reward_l
    z = (beta * margin).clamp(-margin_clip, margin_clip)
    loss_dpo = -F.logsigmoid(z).mean()
    loss = loss_dpo
    metrics = {"loss/dpo": loss_dpo}
    if reg == "zo":
        loss_zo = per_sample_mse(pred_w, ref_w).mean() + per_sample_mse(pred_l, ref_l).mean()
        loss = loss + lambda_zo * loss_zo
        metrics["loss/zo"] = loss_zo
    elif reg == "sft":
        loss_sft = (err_w + err_l).mean()
        loss = loss + lambda_sft * loss_sft
        metrics["loss/sft"] = loss_sft
    metrics.update(
        {
            "rewards/chosen": reward_w.mean(),
            "rewards/rejected": reward_l.mean(),
            "rewards/margins": margin.mean(),
            "rewards/accuracies": (margin > 0).float().mean(),
        }
    )
    return loss, {k: v.detach() for k, v in metrics.items()}
