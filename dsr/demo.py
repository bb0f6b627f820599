"""The embedded default job behind ``make demo``.

Today: score a set of example tracks built in code (boxes that follow their prompt, move the
wrong way, stand still, or are lost), print the correctness curve and write its PNG plus one SSR
curve. Later stages extend this into the whole pipeline.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from dsr.prompts import DSRType
from dsr.scoring import correctness, plot_correctness, plot_ssr_curves
from dsr.scoring.tracks import score_rows, write_rows

__all__ = ["example_tracks", "run_demo"]

log = logging.getLogger(__name__)
_SIDE = {"left": (-1.3, 0.0), "right": (1.3, 0.0), "top": (0.0, -1.2)}


def _trajectory(start: str, end: str, n: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Animal boxes moving from one side of an object at (200, 200) to another."""
    t = np.clip((np.arange(n) / (n - 1) - 0.3) / 0.4, 0, 1)[:, None]
    pos = (1 - t) * np.array(_SIDE[start]) + t * np.array(_SIDE[end])
    centre = np.array([200.0, 200.0]) + 60 * pos + rng.normal(0, noise, (n, 2))
    return np.concatenate([centre - 25, centre + 25], axis=1)


def example_tracks(seed: int = 0, per_type: int = 4, n_frames: int = 81) -> list[dict[str, Any]]:
    """Tracks for every DSR type: followed, reversed, static and lost, with seeded noise."""
    rng = np.random.default_rng(seed)
    obj = np.tile([170.0, 170.0, 230.0, 230.0], (n_frames, 1))
    rows = []
    for dsr_type in DSRType:
        init, final = dsr_type.initial.value, dsr_type.final.value
        kinds = ["follows", "reversed", "static", "lost"][:per_type]
        for kind in kinds:
            a, b = (final, init) if kind == "reversed" else (init, init if kind == "static" else final)
            animal = _trajectory(a, b, n_frames, rng, noise=3.0)
            animal_list: list[list[float] | None] = animal.tolist()
            if kind == "lost":
                keep = rng.choice(n_frames, size=12, replace=False)
                animal_list = [box if i in keep else None for i, box in enumerate(animal_list)]
            rows.append({"sample_id": f"{dsr_type.code}-{kind}", "initial": init, "final": final,
                         "animal_boxes": animal_list, "object_boxes": obj.tolist()})
    return rows


def run_demo(out_dir: str | Path = "demo_output", seed: int = 0) -> dict[str, Path]:
    """Score the example tracks; returns the paths written."""
    out = Path(out_dir)
    rows = example_tracks(seed)
    tracks = write_rows(rows, out / "example_tracks.jsonl")
    report = score_rows(list(enumerate(rows, start=1)))
    scores = write_rows(report.rows, out / "example_scores.jsonl")
    curve = correctness([r["dsr_score"] for r in report.rows])
    plot = plot_correctness(curve, out / "correctness.png", title="Example tracks")
    first = report.rows[0]
    ssr = plot_ssr_curves(first["ssr_initial"], first["ssr_final"], out / f"ssr_{first['sample_id']}.png",
                          initial=first["initial"], final=first["final"], title=first["sample_id"])
    log.info("correctness curve:\n%s", curve.table())
    return {"tracks": tracks, "scores": scores, "correctness_plot": plot, "ssr_plot": ssr}
