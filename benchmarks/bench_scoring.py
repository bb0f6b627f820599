"""Throughput of the DSR-Score: the vectorized batch path against a per-frame Python loop.

A script, not a test: ``python benchmarks/bench_scoring.py [--videos 10000] [--loop-videos 300]``.
Builds seeded synthetic videos (an animal moving between two sides of a static object, with
jitter and some lost frames), times ``dsr_scores`` on the whole batch and a straightforward loop
(``ssr_score`` frame by frame, the score in plain Python) on a subset, prints videos/s for both,
the speed-up, and checks that both paths agree on the subset.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from dsr.prompts import DSRType, Relation
from dsr.scoring import dsr_scores, ssr_score

SIDES = {"left": (-1.4, 0.0), "right": (1.4, 0.0), "top": (0.0, -1.3)}


def synthetic_batch(
    n_videos: int, n_frames: int, seed: int = 0, lost: float = 0.05
) -> tuple[np.ndarray, np.ndarray, list[Relation], list[Relation]]:
    """Animal and object boxes (B, N, 4) with NaN for lost boxes, and one DSR type per video."""
    rng = np.random.default_rng(seed)
    types = [list(DSRType)[i] for i in rng.integers(0, 6, n_videos)]
    start = np.array([SIDES[t.initial.value] for t in types])[:, None, :]
    end = np.array([SIDES[t.final.value] for t in types])[:, None, :]
    reverse = rng.random(n_videos) < 0.3  # some videos move the wrong way
    start[reverse], end[reverse] = end[reverse], start[reverse].copy()
    t = np.clip((np.linspace(0, 1, n_frames) - rng.uniform(0.1, 0.5, (n_videos, 1))) / 0.4, 0, 1)
    obj_size = rng.uniform(40, 120, (n_videos, 1, 2))
    obj_centre = rng.uniform(200, 600, (n_videos, 1, 2)) + rng.normal(0, 2, (n_videos, n_frames, 2))
    pos = (1 - t[..., None]) * start + t[..., None] * end
    animal_size = rng.uniform(20, 80, (n_videos, 1, 2)) * rng.uniform(
        0.9, 1.1, (n_videos, n_frames, 2)
    )
    animal_centre = obj_centre + pos * obj_size + rng.normal(0, 4, (n_videos, n_frames, 2))
    obj = np.concatenate([obj_centre - obj_size / 2, obj_centre + obj_size / 2], axis=-1)
    animal = np.concatenate(
        [animal_centre - animal_size / 2, animal_centre + animal_size / 2], axis=-1
    )
    rate = np.where(rng.random((n_videos, 1)) < 0.05, 0.8, lost)  # 5% of videos mostly lost
    animal[rng.random((n_videos, n_frames)) < rate] = np.nan
    return animal, obj, [t.initial for t in types], [t.final for t in types]


def loop_score(
    animal: list, obj: list, initial: Relation, final: Relation, m: int = 3
) -> float | None:
    """The DSR-Score of one video, frame by frame in plain Python."""
    r_i: list[float] = []
    r_f: list[float] = []
    for a, o in zip(animal, obj, strict=True):
        if any(v != v for v in a) or any(v != v for v in o):  # NaN: box lost
            continue
        r_i.append(ssr_score(a, o, initial))
        r_f.append(ssr_score(a, o, final))
    if len(r_i) < 20:
        return None
    r_init, r_final = sum(r_i[:m]) / m, sum(r_f[-m:]) / m
    g_init, g_final = (r_i[0] - r_i[-1]) / 2, (r_f[-1] - r_f[0]) / 2
    return (r_init + r_final + g_init + g_final) / 8 + 0.5


def _plain_ssr(a: list[float], o: list[float], relation: Relation) -> float:
    vx = (a[0] + a[2] - o[0] - o[2]) / 2.0
    vy = (a[1] + a[3] - o[1] - o[3]) / 2.0
    norm = math.hypot(vx, vy)
    if norm == 0:
        return 0.0
    if relation is Relation.TOP:
        return (-vy / norm) * min(abs(vy) / (((a[3] - a[1]) + (o[3] - o[1])) / 2.0), 1.0)
    sign = 1.0 if relation is Relation.LEFT else -1.0
    return (sign * -vx / norm) * min(abs(vx) / (((a[2] - a[0]) + (o[2] - o[0])) / 2.0), 1.0)


def plain_score(
    animal: list, obj: list, initial: Relation, final: Relation, m: int = 3
) -> float | None:
    """The same loop with the SSR formula inlined as plain float arithmetic (no numpy at all)."""
    r_i: list[float] = []
    r_f: list[float] = []
    for a, o in zip(animal, obj, strict=True):
        if (
            not all(math.isfinite(v) for v in a + o)
            or a[2] <= a[0]
            or a[3] <= a[1]
            or o[2] <= o[0]
            or o[3] <= o[1]
        ):
            continue
        r_i.append(_plain_ssr(a, o, initial))
        r_f.append(_plain_ssr(a, o, final))
    if len(r_i) < 20:
        return None
    r_init, r_final = sum(r_i[:m]) / m, sum(r_f[-m:]) / m
    g_init, g_final = (r_i[0] - r_i[-1]) / 2, (r_f[-1] - r_f[0]) / 2
    return (r_init + r_final + g_init + g_final) / 8 + 0.5


def _time_loop(
    fn: object, animal: list, obj: list, initial: list, final: list
) -> tuple[list, float]:
    t0 = time.perf_counter()
    out = [fn(animal[i], obj[i], initial[i], final[i]) for i in range(len(animal))]
    return out, time.perf_counter() - t0


def _agreement(vec: np.ndarray, looped: list[float | None]) -> tuple[bool, float]:
    ref = np.array([np.nan if s is None else s for s in looped])
    same_validity = bool((np.isnan(vec) == np.isnan(ref)).all())
    max_diff = float(np.nanmax(np.abs(vec - ref))) if (~np.isnan(ref)).any() else 0.0
    return same_validity, max_diff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--loop-videos", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    animal, obj, initial, final = synthetic_batch(args.videos, args.frames)
    dsr_scores(animal[:10], obj[:10], initial[:10], final[:10])  # warm-up
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        batch = dsr_scores(animal, obj, initial, final)
        times.append(time.perf_counter() - t0)
    vec_time = min(times)
    vec_rate = args.videos / vec_time

    k = min(args.loop_videos, args.videos)
    boxes_a, boxes_o = animal[:k].tolist(), obj[:k].tolist()
    looped, loop_time = _time_loop(loop_score, boxes_a, boxes_o, initial[:k], final[:k])
    plain, plain_time = _time_loop(plain_score, boxes_a, boxes_o, initial[:k], final[:k])
    loop_rate, plain_rate = k / loop_time, k / plain_time

    print(
        f"batch: {args.videos} synthetic videos x {args.frames} frames (seed 0), "
        f"{int((~batch.valid).sum())} invalid"
    )
    print(
        f"vectorized dsr_scores      : {vec_rate:10,.0f} videos/s  ({vec_time * 1e3:.1f} ms for "
        f"all {args.videos}, best of {args.repeats})"
    )
    print(
        f"loop calling ssr_score     : {loop_rate:10,.0f} videos/s  ({loop_time:.2f} s for the "
        f"first {k} videos; per-video throughput)"
    )
    print(
        f"loop, plain float formulas : {plain_rate:10,.0f} videos/s  ({plain_time:.2f} s for the "
        f"same {k} videos; no numpy)"
    )
    print(f"speed-up vs ssr_score loop : {vec_rate / loop_rate:10,.0f}x")
    print(f"speed-up vs plain loop     : {vec_rate / plain_rate:10,.0f}x")
    for name, result in (("ssr_score loop", looped), ("plain loop", plain)):
        same_validity, max_diff = _agreement(batch.score[:k], result)
        print(
            f"agreement with the {name} on {k} videos: same validity {same_validity}, "
            f"max |score difference| {max_diff:.2e}"
        )
        assert same_validity and max_diff < 1e-9, f"vectorized path and {name} disagree"


if __name__ == "__main__":
    main()
