"""DSR metrics from stored rows and their bootstrap intervals / paired tests, against counts and
loops written here."""

from __future__ import annotations

import numpy as np
import pytest

from dsr.errors import DataError
from dsr.evaluation.bootstrap import Ratio, bootstrap_interval, paired_test
from dsr.evaluation.dsr_metrics import dsr_metrics, outcomes, per_type

TYPES = ("LT", "TL", "RT", "LR", "TR", "RL")


def _rows(n_prompts: int, seeds: int = 5, p_correct: float = 0.5, seed: int = 0) -> list[dict]:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_prompts):
        for s in range(seeds):
            valid = rng.random() > 0.2
            score = float(np.clip(rng.normal(0.75 if rng.random() < p_correct else 0.4, 0.1), 0, 1))
            rows.append(
                {
                    "prompt_id": f"p{p:03d}",
                    "seed": s,
                    "dsr_type": TYPES[p % 6],
                    "valid": valid,
                    "dsr_score": score if valid else None,
                    "reason": None if valid else "too_few_valid",
                }
            )
    return rows


def test_correctness_counts_invalid_samples_as_failures_and_means_only_valid_scores() -> None:
    rows = [
        {"prompt_id": "a", "seed": 0, "dsr_type": "LT", "valid": True, "dsr_score": 0.9},
        {"prompt_id": "a", "seed": 1, "dsr_type": "LT", "valid": True, "dsr_score": 0.7},
        {"prompt_id": "b", "seed": 0, "dsr_type": "RL", "valid": True, "dsr_score": 0.2},
        {
            "prompt_id": "b",
            "seed": 1,
            "dsr_type": "RL",
            "valid": False,
            "dsr_score": None,
            "reason": "no_valid_run",
        },
        {
            "prompt_id": "b",
            "seed": 2,
            "dsr_type": "RL",
            "valid": False,
            "dsr_score": None,
            "reason": "no_valid_run",
        },
    ]
    m = dsr_metrics(outcomes(rows))
    assert m.correct_at(0.7) == pytest.approx(2 / 5) and m.correct_at(0.0) == pytest.approx(3 / 5)
    assert m.mean_score == pytest.approx(
        (0.9 + 0.7 + 0.2) / 3
    ) and m.validity_rate == pytest.approx(3 / 5)
    assert m.reasons == {"no_valid_run": 2} and (m.n_samples, m.n_prompts) == (5, 2)
    types = per_type(outcomes(rows))
    assert (
        list(types) == ["LT", "RL"]
        and types["LT"].correct_at(0.7) == 1.0
        and types["RL"].correct_at(0.7) == 0.0
    )


def test_curve_matches_a_loop_and_duplicates_are_refused() -> None:
    rows = _rows(30)
    m = dsr_metrics(outcomes(rows))
    for tau, value in zip(m.curve.thresholds, m.curve.values, strict=True):
        expected = sum(1 for r in rows if r["valid"] and r["dsr_score"] >= tau) / len(rows)
        assert value == pytest.approx(expected)
    with pytest.raises(DataError, match="appear twice"):
        outcomes(rows + rows[:1])


def _correct(rows: list[dict]) -> Ratio:  # type: ignore[type-arg]
    return Ratio.of(
        [r["prompt_id"] for r in rows], [float(r["valid"] and r["dsr_score"] >= 0.7) for r in rows]
    )


def test_bootstrap_resamples_whole_prompts() -> None:
    rows = _rows(12)
    got = bootstrap_interval(_correct(rows), n_resamples=300, seed=3)
    # the same resamples drawn here: prompts with replacement, all seeds of a drawn prompt kept
    order = sorted({r["prompt_id"] for r in rows})
    draws = np.random.default_rng(3).integers(0, len(order), size=(300, len(order)))
    stats = []
    for draw in draws:
        picked = [r for i in draw for r in rows if r["prompt_id"] == order[i]]
        stats.append(sum(r["valid"] and r["dsr_score"] >= 0.7 for r in picked) / len(picked))
    assert (got.low, got.high) == pytest.approx(tuple(np.percentile(stats, [2.5, 97.5])))


def test_interval_contains_the_estimate_shrinks_with_prompts_and_is_reproducible() -> None:
    small, large = _rows(20), _rows(320)
    a = bootstrap_interval(_correct(small), n_resamples=2000, seed=1)
    b = bootstrap_interval(_correct(large), n_resamples=2000, seed=1)
    assert a.low <= a.estimate <= a.high and b.low <= b.estimate <= b.high
    assert (b.high - b.low) < 0.5 * (a.high - a.low)
    assert bootstrap_interval(_correct(small), n_resamples=2000, seed=1) == a
    assert bootstrap_interval(_correct(small), n_resamples=2000, seed=2) != a


def test_paired_test_gives_one_for_identical_models_and_small_p_for_a_better_one() -> None:
    rows = _rows(60, p_correct=0.3, seed=0)
    better = [dict(r, valid=True, dsr_score=min(1.0, (r["dsr_score"] or 0.5) + 0.3)) for r in rows]
    keys = [(r["prompt_id"], r["seed"]) for r in rows]
    same = paired_test(keys, _correct(rows), keys, _correct(rows), n_resamples=2000)
    assert same.p_value == 1.0 and same.difference == 0.0
    test = paired_test(keys, _correct(rows), keys, _correct(better), n_resamples=2000)
    assert test.p_value < 0.01 and test.difference > 0.2 and test.low > 0


def test_paired_test_refuses_different_samples() -> None:
    rows = _rows(6)
    keys = [(r["prompt_id"], r["seed"]) for r in rows]
    with pytest.raises(DataError, match="same prompts and seeds"):
        paired_test(keys, _correct(rows), keys[:-1], _correct(rows[:-1]))
