"""dpo_zo_loss against values computed by hand and by a plain-Python reference (docs/method.md
§6)."""

from __future__ import annotations

import math

import pytest
import torch

from dsr.training.loss import dpo_zo_loss


def _const(value: float, shape: tuple[int, ...] = (1, 2, 3)) -> torch.Tensor:
    return torch.full(shape, value)


def test_hand_computed_example() -> None:
    target = _const(0.0)
    # e_θ^w = 1, e_ref^w = 0 → reward_w = -1;  e_θ^l = 4, e_ref^l = 1 → reward_l = -3;  margin = 2
    loss, m = dpo_zo_loss(_const(1.0), _const(2.0), _const(0.0), _const(1.0), target, target)
    dpo = math.log1p(math.exp(-2.0))
    zo = 1.0 + 1.0  # mean((1-0)²) + mean((2-1)²)
    assert loss.item() == pytest.approx(dpo + 0.25 * zo, rel=1e-6)
    assert m["loss/dpo"].item() == pytest.approx(dpo, rel=1e-6) and m[
        "loss/zo"
    ].item() == pytest.approx(2.0)
    assert m["rewards/chosen"].item() == pytest.approx(-1.0) and m[
        "rewards/rejected"
    ].item() == pytest.approx(-3.0)
    assert (
        m["rewards/margins"].item() == pytest.approx(2.0) and m["rewards/accuracies"].item() == 1.0
    )


def test_beta_scales_the_margin_and_the_clip_bounds_it() -> None:
    t = _const(0.0)
    loss, _ = dpo_zo_loss(_const(1.0), _const(2.0), t, _const(1.0), t, t, beta=0.5, reg="none")
    assert loss.item() == pytest.approx(math.log1p(math.exp(-1.0)), rel=1e-6)
    # margin 2 × β 10 = 20 → clipped to 5
    loss, m = dpo_zo_loss(_const(1.0), _const(2.0), t, _const(1.0), t, t, beta=10.0, reg="none")
    assert loss.item() == pytest.approx(math.log1p(math.exp(-5.0)), rel=1e-6)
    assert m["rewards/margins"].item() == pytest.approx(2.0)  # reported before β and clipping


def test_clipped_margin_passes_no_gradient() -> None:
    t = _const(0.0)
    pred_w = _const(1.0).requires_grad_()
    loss, _ = dpo_zo_loss(pred_w, _const(2.0), t, _const(1.0), t, t, beta=10.0, reg="none")
    loss.backward()
    assert torch.count_nonzero(pred_w.grad) == 0


def test_policy_equal_to_reference_gives_log2_and_no_zo() -> None:
    g = torch.Generator().manual_seed(0)
    pw, pl, tw, tl = (torch.randn(3, 4, 5, generator=g) for _ in range(4))
    loss, m = dpo_zo_loss(pw, pl, pw.clone(), pl.clone(), tw, tl)
    assert loss.item() == pytest.approx(math.log(2.0), abs=1e-7)
    assert m["loss/zo"].item() == 0.0 and m["rewards/margins"].item() == 0.0
    assert m["rewards/accuracies"].item() == 0.0  # a margin of exactly 0 is not "> 0"


def _reference(pw, pl, rw, rl, tw, tl, beta, clip, reg, lam):
    """Plain-Python docs/method.md §6, sample by sample."""

    def mse(a, b):
        xs, ys = a.flatten().tolist(), b.flatten().tolist()
        return sum((x - y) ** 2 for x, y in zip(xs, ys, strict=True)) / len(xs)

    dpo, reg_term = 0.0, 0.0
    n = pw.shape[0]
    for i in range(n):
        ew, el, rew, rel = (
            mse(pw[i], tw[i]),
            mse(pl[i], tl[i]),
            mse(rw[i], tw[i]),
            mse(rl[i], tl[i]),
        )
        z = max(-clip, min(clip, beta * ((rew - ew) - (rel - el))))
        dpo += math.log1p(math.exp(-z)) / n
        if reg == "zo":
            reg_term += (mse(pw[i], rw[i]) + mse(pl[i], rl[i])) / n
        elif reg == "sft":
            reg_term += (ew + el) / n
    return dpo + lam * reg_term


@pytest.mark.parametrize("reg", ["zo", "sft", "none"])
def test_batch_matches_a_per_sample_reference(reg: str) -> None:
    g = torch.Generator().manual_seed(1)
    tensors = [torch.randn(4, 3, 2, 5, 6, generator=g) for _ in range(6)]
    loss, m = dpo_zo_loss(
        *tensors, beta=2.0, lambda_zo=0.3, lambda_sft=0.7, margin_clip=0.5, reg=reg
    )
    lam = {"zo": 0.3, "sft": 0.7, "none": 0.0}[reg]
    assert loss.item() == pytest.approx(_reference(*tensors, 2.0, 0.5, reg, lam), rel=1e-5)
    assert ("loss/zo" in m) == (reg == "zo") and ("loss/sft" in m) == (reg == "sft")


def test_computes_in_float32_for_bf16_inputs() -> None:
    g = torch.Generator().manual_seed(2)
    tensors = [torch.randn(2, 8, 9, generator=g).to(torch.bfloat16) for _ in range(6)]
    loss, m = dpo_zo_loss(*tensors)
    ref, _ = dpo_zo_loss(*[t.float() for t in tensors])
    assert loss.dtype == torch.float32 and m["rewards/chosen"].dtype == torch.float32
    assert loss.item() == ref.item()


def test_gradient_reaches_the_predictions_only() -> None:
    g = torch.Generator().manual_seed(3)
    pw, pl, rw, rl = (torch.randn(2, 5, generator=g).requires_grad_() for _ in range(4))
    tw, tl = torch.randn(2, 5, generator=g), torch.randn(2, 5, generator=g)
    loss, _ = dpo_zo_loss(pw, pl, rw, rl, tw, tl)
    loss.backward()
    assert pw.grad is not None and pl.grad is not None
    assert rw.grad is None and rl.grad is None


def test_unknown_regularizer_is_refused() -> None:
    t = _const(0.0)
    with pytest.raises(ValueError, match="reg='l2'"):
        dpo_zo_loss(t, t, t, t, t, t, reg="l2")
