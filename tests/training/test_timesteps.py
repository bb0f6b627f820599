"""The training noise levels (docs/method.md §6): DiffSynth's shifted 1000-step grid, drawn
uniformly."""

from __future__ import annotations

import numpy as np
import pytest

from dsr.training.timesteps import (
    bf16_round,
    draw_sigma,
    shift_sigmas,
    training_grid_point,
    training_sigmas,
)


def test_shift_by_hand() -> None:
    # 5·0.5 / (1 + 4·0.5) = 2.5 / 3
    assert shift_sigmas(np.array([0.0, 0.5, 1.0]), 5.0) == pytest.approx([0.0, 2.5 / 3, 1.0])
    assert shift_sigmas(np.array([0.25]), 1.0) == pytest.approx([0.25])


def test_grid_is_linspace_1_to_0_without_the_last_point_then_shifted() -> None:
    grid = training_sigmas(1000, 5.0)
    assert grid.shape == (1000,) and grid[0] == 1.0
    i = 700  # unshifted sigma = 1 - 700/1000 = 0.3 → 1.5 / 2.2
    assert grid[i] == pytest.approx(1.5 / 2.2)
    assert grid[-1] == pytest.approx(5 * 0.001 / (1 + 4 * 0.001))
    assert np.all(np.diff(grid) < 0)


def test_uniform_draws_come_from_the_grid_and_cover_it() -> None:
    rng = np.random.default_rng(0)
    grid = training_sigmas(1000, 5.0)
    draws = [draw_sigma(rng, sampling="uniform") for _ in range(4000)]
    sigmas = np.array([s for s, _ in draws])
    assert all(t == pytest.approx(1000 * s) for s, t in draws[:20])
    idx = np.searchsorted(-grid, -sigmas)
    assert np.allclose(grid[idx], sigmas)
    # each quarter of the index range gets about a quarter of the draws
    counts = np.bincount(idx // 250, minlength=4) / len(idx)
    assert np.all(np.abs(counts - 0.25) < 0.04)


def test_logit_normal_stays_in_the_unit_interval_and_is_seeded() -> None:
    a = [
        draw_sigma(np.random.default_rng(5), sampling="logit_normal", logit_std=2.0)
        for _ in range(3)
    ]
    assert a[0] == a[1] == a[2]
    sig = [draw_sigma(np.random.default_rng(i), sampling="logit_normal")[0] for i in range(200)]
    assert min(sig) > 0.0 and max(sig) < 1.0


def test_unknown_sampling_is_refused() -> None:
    with pytest.raises(ValueError, match="cosine"):
        draw_sigma(np.random.default_rng(0), sampling="cosine")


# -- the authors' bf16 timestep (docs/method.md §6) ------------------------------------------


def _authors_bf16_grid() -> list[tuple[float, float]]:
    """DiffSynth's training step written out: its float32 grid, the drawn timestep cast to bf16,
    then add_noise's σ of the grid timestep nearest to it (torch.argmin)."""
    import torch

    sigmas = torch.linspace(1.0, 0.0, 1001)[:-1]
    sigmas = 5.0 * sigmas / (1 + 4.0 * sigmas)
    timesteps = sigmas * 1000
    out = []
    for t in timesteps.tolist():
        t_bf16 = torch.tensor(t).to(torch.bfloat16)
        nearest = torch.argmin((timesteps - t_bf16).abs())
        out.append((float(sigmas[nearest]), float(t_bf16)))
    return out


def test_bf16_timesteps_are_the_authors_at_every_grid_index() -> None:
    expected = _authors_bf16_grid()
    ours = [training_grid_point(i, timestep_dtype="bfloat16") for i in range(1000)]
    assert ours == expected
    assert len({s for s, _ in ours}) == 294  # 1000 grid levels collapse to 294 noise levels
    grid_t = 1000 * training_sigmas(1000, 5.0)
    moved = np.abs(np.array([t for _, t in ours]) - grid_t)
    assert 1.9 < moved.max() <= 2.0  # bf16 keeps 8 significant bits: steps of 4 near 1000


def test_float32_timesteps_keep_all_1000_levels() -> None:
    points = [training_grid_point(i) for i in range(1000)]
    assert len({s for s, _ in points}) == 1000
    assert all(t == 1000 * s for s, t in points)


def test_bf16_round_matches_torch_including_ties() -> None:
    import torch

    values = np.array([1000.0, 998.0, 997.5, 3.0 + 2**-7, 3.0 + 3 * 2**-7, 0.1, 513.0, 514.0])
    expected = torch.tensor(values, dtype=torch.float32).to(torch.bfloat16).double().numpy()
    assert np.array_equal(bf16_round(values), expected)


def test_draws_use_the_snapped_grid_with_the_same_random_stream() -> None:
    snapped = [draw_sigma(np.random.default_rng(i), timestep_dtype="bfloat16") for i in range(50)]
    plain = [draw_sigma(np.random.default_rng(i)) for i in range(50)]
    authors = _authors_bf16_grid()
    grid = training_sigmas(1000, 5.0)
    for (_, t_plain), point in zip(plain, snapped, strict=True):
        index = int(np.argmin(np.abs(1000 * grid - t_plain)))
        assert point == authors[index]
