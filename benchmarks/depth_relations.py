"""How well depth separates satisfied from violated front/behind frames in the synthetic world.

Per frame of synthetic videos whose prompt has front or behind (every ordered pair of the six
relations with one of them, all scenarios, seeds 0..N-1), the truth is the scene's own distance of
the animal (read from the true depth map at its pixels; the object stands at 1.0), over the frames
where both entities show (the frames a score would use): a frame
satisfies ``front`` when the animal is nearer than the object, ``behind`` when it is farther, and
violates it otherwise (side by side, or the other order). The provisional per-frame score is the
sign-aware depth difference: object_depth − animal_depth for front, its negation for behind; 0
(undecidable) where a value is missing. AUROC of that score, per relation, for:

  a. truth       the true distances themselves (1.0 − animal distance): the ceiling;
  b. pipeline    animal_depth/object_depth as the tracker computes them (true depth map, rescaled
                 per frame, median over the true visible masks): the ``annotations`` tracker;
  c. +masks      as b with each mask grown by 3 pixels (a tracker whose masks spill over);
  d. +model-like as b through a simulated relative-depth model: per frame an unknown affine map of
                 disparity (1/distance), pixel noise, and depth edges blurred over 4 pixels.

Run: ``PYTHONPATH=. python benchmarks/depth_relations.py [--seeds 10]``. Prints one table.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from dsr.generation.base import ENTITY_ANIMAL, ENTITY_OBJECT
from dsr.generation.synthetic import SyntheticConfig, SyntheticGenerator
from dsr.tracking.depth import depth_track

RELATIONS = ("left", "right", "top", "under", "front", "behind")


@dataclass(frozen=True)
class Rel:
    value: str


@dataclass(frozen=True)
class NamedPrompt:
    animal: str
    object: str
    initial: Rel
    final: Rel

    def render(self) -> str:
        return f"a {self.animal} {self.initial.value}->{self.final.value} of a {self.object}"


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count one half)."""
    pos, neg = scores[labels], scores[~labels]
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def _grow(masks: np.ndarray, r: int) -> np.ndarray:
    out = masks.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out |= np.roll(np.roll(masks, dy, axis=1), dx, axis=2)
    return out


def _blur(x: np.ndarray, r: int) -> np.ndarray:
    """Box blur of each frame (T, H, W) over (2r+1)² pixels, edges replicated."""
    pad = np.pad(x, ((0, 0), (r, r), (r, r)), mode="edge")
    c = pad.cumsum(1).cumsum(2)
    c = np.pad(c, ((0, 0), (1, 0), (1, 0)))
    k = 2 * r + 1
    return (c[:, k:, k:] - c[:, :-k, k:] - c[:, k:, :-k] + c[:, :-k, :-k]) / k**2


def _model_like(depth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Minus a disparity as a relative-depth model gives it: affine-ambiguous, noisy, blurred."""
    disparity = 1.0 / depth
    scale = rng.uniform(0.5, 2.0, (len(depth), 1, 1))
    shift = rng.uniform(-0.3, 0.3, (len(depth), 1, 1))
    noisy = scale * disparity + shift + rng.normal(0, 0.05, depth.shape)
    return -_blur(noisy, 4)


def measure(seeds: int, frames: int, height: int, width: int) -> dict[str, dict[str, float]]:
    gen = SyntheticGenerator(
        SyntheticConfig(num_frames=frames, height=height, width=width, scenario=None)
    )
    rng = np.random.default_rng(0)
    rows: dict[str, list[tuple[str, float, bool]]] = {}
    for initial in RELATIONS:
        for final in RELATIONS:
            if initial == final or not {initial, final} & {"front", "behind"}:
                continue
            prompt = NamedPrompt("cat", "crate", Rel(initial), Rel(final))
            for seed in range(seeds):
                _video_rows(gen.generate_one(prompt, seed), rows, rng)  # type: ignore[arg-type]
    out = {}
    for rel in ("front", "behind"):
        got = rows.get(rel, [])
        labels = np.array([lab for kind, _, lab in got if kind == "truth"])
        out[rel] = {"frames": float(len(labels)), "satisfied": float(labels.sum())}
        for kind in ("truth", "pipeline", "+masks", "+model-like"):
            scores = np.array([s for k, s, _ in got if k == kind])
            out[rel][kind] = auroc(scores, labels)
    return out


def _video_rows(video, rows, rng) -> None:  # type: ignore[no-untyped-def]
    ann = video.annotations
    if ann is None or ann.depth is None:
        return
    depth = ann.depth.astype(np.float32)
    animal, obj = ann.entities == ENTITY_ANIMAL, ann.entities == ENTITY_OBJECT
    seen = animal.any(axis=(1, 2)) & obj.any(axis=(1, 2))  # usable frames: both entities show
    true_d = np.array(
        [depth[t][animal[t]].mean() if seen[t] else np.nan for t in range(len(depth))]
    )
    tracks = {
        "pipeline": depth_track(depth, animal, obj),
        "+masks": depth_track(depth, _grow(animal, 3), _grow(obj, 3)),
        "+model-like": depth_track(_model_like(depth, rng), animal, obj),
    }
    for rel, sign in (("front", 1.0), ("behind", -1.0)):
        for t in np.flatnonzero(seen):
            label = bool(true_d[t] < 1.0 - 1e-3) if rel == "front" else bool(true_d[t] > 1.0 + 1e-3)
            rows.setdefault(rel, []).append(("truth", sign * (1.0 - true_d[t]), label))
            for kind, track in tracks.items():
                diff = track.object_depth[t] - track.animal_depth[t]
                rows[rel].append((kind, 0.0 if np.isnan(diff) else sign * float(diff), label))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--frames", type=int, default=41)
    parser.add_argument("--size", default="120x208")
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.split("x"))
    result = measure(args.seeds, args.frames, h, w)
    kinds = ("truth", "pipeline", "+masks", "+model-like")
    print(f"{'relation':>8} {'frames':>7} {'satisf.':>7} " + " ".join(f"{k:>12}" for k in kinds))
    for rel, r in result.items():
        cells = " ".join(f"{r[k]:12.4f}" for k in kinds)
        print(f"{rel:>8} {int(r['frames']):7d} {int(r['satisfied']):7d} {cells}")


if __name__ == "__main__":
    main()
