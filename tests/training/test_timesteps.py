"""The training noise levels (SPEC §6): DiffSynth's shifted 1000-step grid, drawn uniformly."""

from __future__ import annotations

import numpy as np
import pytest

from dsr.training.timesteps import draw_sigma, shift_sigmas, training_sigmas


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
