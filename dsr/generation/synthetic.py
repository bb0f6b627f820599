"""A procedural video world with ground truth, for demos, tests and validating the metric.

Layers from the bottom up: a seeded *scenario* (what the animal does), a *scene* of per-frame
entity boxes computed from it (pure numpy), and the renderer that paints those boxes as sprites
over a seeded background. The true boxes and the per-frame detections (distractors included) are
emitted as :class:`~dsr.generation.base.Annotations`, so the ``annotations`` tracker sees exactly
what was drawn.

Scenarios (``SCENARIOS``): ``follow`` the prompt, ``reverse`` (final → initial), ``static``,
``wrong_target`` (ends on the third side), ``partial`` (stops half way), and the failure cases that
validity must catch: ``second_animal`` (a duplicate animal ⇒ redundant frames), ``object_missing``
(⇒ miss frames), ``leaves_frame`` (the animal walks out for a long while), ``flicker`` (hidden
every fourth frame ⇒ no run of 4 valid frames; needs ≥ 27 frames, shorter clips end up with too
few valid frames instead) and ``hidden_briefly`` (a short occlusion; stays valid).
``scenario="cycle"`` walks through them by seed (seed % 10), which makes small demos
cover every case.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from dsr.errors import ConfigError
from dsr.generation.base import (
    ENTITY_ANIMAL,
    ENTITY_OBJECT,
    ENTITY_SECOND_ANIMAL,
    Annotations,
    GeneratedVideo,
)
from dsr.limits import check_video_size
from dsr.prompts import DSRPrompt, Relation
from dsr.scoring.geometry import box_tuple

__all__ = [
    "DEFAULT_WEIGHTS",
    "DEPTH_RELATIONS",
    "SCENARIOS",
    "SyntheticConfig",
    "SyntheticGenerator",
    "needs_depth",
    "relation_names",
    "scene_boxes",
]

SCENARIOS = (
    "follow",
    "reverse",
    "static",
    "wrong_target",
    "partial",
    "second_animal",
    "object_missing",
    "leaves_frame",
    "flicker",
    "hidden_briefly",
)
DEFAULT_WEIGHTS: dict[str, float] = {
    "follow": 4.0,
    "reverse": 1.5,
    "static": 1.0,
    "wrong_target": 1.0,
    "partial": 1.5,
    "second_animal": 0.5,
    "object_missing": 0.5,
    "leaves_frame": 0.5,
    "flicker": 0.5,
    "hidden_briefly": 1.0,
}
CYCLE = "cycle"
#: relation name → unit offset of the animal from the object: (x, y) in half the summed box sizes
#: (image y down) and z, the depth step (−1 nearer the camera, +1 farther). ``front`` and ``behind``
#: also shift along the floor (nearer is lower in the image), so the occluded animal still shows.
_OFFSET: dict[str, tuple[float, float, float]] = {
    "left": (-1.0, 0.0, 0.0),
    "right": (1.0, 0.0, 0.0),
    "top": (0.0, -1.0, 0.0),
    "under": (0.0, 1.0, 0.0),
    "front": (0.0, 0.35, -1.0),
    "behind": (0.0, -0.55, 1.0),
}
#: relations placed in depth (the registry's ``needs_depth`` ones): their videos carry a depth map
#: and an entity map (docs/method.md §2)
DEPTH_RELATIONS = frozenset(name for name in _OFFSET if Relation.coerce(name).spec.needs_depth)
#: distance of the animal relative to the object's per unit of z; apparent size ∝ 1 / distance
DEPTH_STEP = 0.3


@dataclass(frozen=True)
class SyntheticConfig:
    """Size and behaviour of the synthetic world."""

    num_frames: int = field(default=81, metadata={"help": "frames per video"})
    height: int = field(default=480, metadata={"help": "frame height in pixels"})
    width: int = field(default=832, metadata={"help": "frame width in pixels"})
    fps: int = field(default=16, metadata={"help": "frames per second"})
    scenario: str | None = field(
        default=None,
        metadata={
            "help": (
                "force one scenario for every seed; 'cycle': scenario number seed % 10; None: "
                "draw by weights"
            )
        },
    )
    weights: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS),
        metadata={"help": "scenario → sampling weight"},
    )
    jitter: float = field(
        default=0.02, metadata={"help": "position noise, as a fraction of the frame width"}
    )

    def __post_init__(self) -> None:
        if self.num_frames < 2 or self.height < 16 or self.width < 16 or self.fps < 1:
            raise ConfigError(
                f"SyntheticConfig needs num_frames ≥ 2, height/width ≥ 16 and fps ≥ 1, got "
                f"{self.num_frames} frames of {self.height}×{self.width} at {self.fps} fps"
            )
        check_video_size(self.num_frames, self.height, self.width, "SyntheticConfig")
        named = set(self.weights) | ({self.scenario} if self.scenario is not None else set())
        unknown = sorted(named - {CYCLE} - set(SCENARIOS))
        if unknown:
            raise ConfigError(
                f"unknown synthetic scenario(s) {unknown}: choose from {', '.join(SCENARIOS)}"
            )
        if self.scenario is None and sum(self.weights.values()) <= 0:
            raise ConfigError(
                "SyntheticConfig.weights must have a positive sum (or set scenario=...)"
            )


def relation_names(prompt: DSRPrompt) -> tuple[str, ...]:
    """The prompt's relation names in stage order (initial, [middle,] final), each one the
    synthetic world can place."""
    names = tuple(str(r.value) for r in prompt.relations)
    unknown = [name for name in names if name not in _OFFSET]
    if unknown:
        raise ConfigError(
            f"the synthetic world cannot place relation {unknown[0]!r}: it renders "
            f"{', '.join(_OFFSET)}"
        )
    return names


def needs_depth(*names: str) -> bool:
    """Whether a prompt with these relation names is placed in depth: a relation the registry
    scores with depth (``RelationSpec.needs_depth``: front, behind)."""
    return any(Relation.coerce(name).spec.needs_depth for name in names)


def _third(*stages: str) -> str:
    """A relation the prompt never names: the third side for left/right/top, else the first free
    one."""
    return next(r for r in _OFFSET if r not in stages)


def _segment(start: str, end: str, t: np.ndarray) -> np.ndarray:
    """Unit offsets (len(t), 3) at progress ``t`` ∈ [0, 1] from ``start`` to ``end``."""
    a, b = np.array(_OFFSET[start]), np.array(_OFFSET[end])
    pos = (1 - t)[:, None] * a + t[:, None] * b
    if a[1] == b[1] == 0 and a[0] != b[0]:  # left ↔ right: arc over the object, not through it
        pos[:, 1] -= np.sin(np.pi * t) * 0.9
    elif a[0] == b[0] == 0 and (a[1] * b[1] < 0 or a[2] * b[2] < 0):
        pos[:, 0] += np.sin(np.pi * t) * 1.1  # top ↔ under, front ↔ behind: around the side
    return pos


def _path(stops: Sequence[str], n: int, t0: float, t1: float, reach: float = 1.0) -> np.ndarray:
    """Unit offsets (n, 3) through ``stops`` (x, y, depth); hold, move during [t0, t1], hold.
    With three stops the animal moves to the middle one in the first 40 % of [t0, t1], holds
    there for 20 % and moves on to the last in the remaining 40 %."""
    p = np.clip((np.linspace(0.0, 1.0, n) - t0) / max(t1 - t0, 1e-6), 0.0, 1.0) * reach
    if len(stops) == 2:
        return _segment(stops[0], stops[1], p)
    first = np.clip(p / 0.4, 0.0, 1.0)
    second = np.clip((p - 0.6) / 0.4, 0.0, 1.0)
    return np.where(
        (p <= 0.5)[:, None],
        _segment(stops[0], stops[1], first),
        _segment(stops[1], stops[2], second),
    )


def _centres(scenario: str, prompt: DSRPrompt, n: int, rng: np.random.Generator) -> np.ndarray:
    stages = relation_names(prompt)
    t0, t1 = rng.uniform(0.15, 0.3), rng.uniform(0.65, 0.85)
    if scenario == "reverse":
        return _path(stages[::-1], n, t0, t1)
    if scenario == "static":
        return _path((stages[0], stages[0]), n, t0, t1)
    if scenario == "wrong_target":
        return _path((*stages[:-1], _third(*stages)), n, t0, t1)
    if scenario == "partial":
        return _path(stages, n, t0, t1, reach=rng.uniform(0.1, 0.9))
    return _path(stages, n, t0, t1)


def scene_boxes(
    scenario: str, prompt: DSRPrompt, config: SyntheticConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Unclipped animal, object and (optional) second-animal boxes, each (T, 4) xyxy."""
    animal, obj, second, _ = _scene(scenario, prompt, config, rng)
    return animal, obj, second


def _scene(
    scenario: str, prompt: DSRPrompt, config: SyntheticConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """:func:`scene_boxes` plus the animal's distance from the camera per frame (T,), relative to
    the object's (1.0). The animal's apparent size scales with 1 / distance."""
    n, h, w = config.num_frames, config.height, config.width
    ow, oh = w * rng.uniform(0.14, 0.2), h * rng.uniform(0.16, 0.22)
    aw, ah = w * rng.uniform(0.09, 0.12), h * rng.uniform(0.12, 0.16)
    oc = np.array([w * rng.uniform(0.45, 0.55), h * rng.uniform(0.55, 0.65)])
    scale = np.array([(aw + ow) / 2 * 1.35, (ah + oh) / 2 * 1.3])
    path = _centres(scenario, prompt, n, rng)
    centres = oc + path[:, :2] * scale + rng.normal(0, config.jitter * w, (n, 2))
    if scenario == "leaves_frame":
        t = np.linspace(0, 1, n)
        away = np.clip(1 - np.abs(t - 0.5) / 0.3, 0, 1) ** 0.3  # out for the middle ~50 %
        centres[:, 0] += away * (w + aw) * (1 if rng.random() < 0.5 else -1)
    distance = 1.0 + DEPTH_STEP * path[:, 2]
    half = np.array([aw, ah]) / 2
    if needs_depth(*relation_names(prompt)):  # only then: the other relations stay as they were
        half = half[None] / distance[:, None]
    animal = np.concatenate([centres - half, centres + half], axis=1)
    obj = np.tile(np.concatenate([oc - [ow / 2, oh / 2], oc + [ow / 2, oh / 2]]), (n, 1))
    second = None
    if scenario == "second_animal":
        half = np.array([aw, ah]) / 2
        pos = np.array([w * 0.15 if oc[0] > w / 2 else w * 0.85, h * 0.2])
        second = np.tile(np.concatenate([pos - half, pos + half]), (n, 1))
    return animal, obj, second, distance


def _visible(scenario: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Per-frame visibility of the animal (occlusions)."""
    vis = np.ones(n, dtype=bool)
    if scenario == "flicker":
        vis[rng.integers(0, 4) :: 4] = False
    elif scenario == "hidden_briefly":
        length = max(1, n // 10)
        start = int(rng.integers(n // 3, max(n // 3 + 1, n - length - 1)))
        vis[start : start + length] = False
    return vis


def _clip(boxes: np.ndarray, h: int, w: int) -> np.ndarray:
    """Boxes clipped to the frame; rows with no area left become NaN."""
    out = boxes.copy()
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, w - 1)
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, h - 1)
    gone = (out[:, 2] - out[:, 0] < 1) | (out[:, 3] - out[:, 1] < 1)
    out[gone] = np.nan
    return out


def _colour(name: str) -> np.ndarray:
    digest = hashlib.sha1(name.encode()).digest()
    return np.array([64 + digest[i] % 192 for i in range(3)], dtype=np.uint8)


def _background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    base = rng.uniform(40, 200, 3)
    ramp = np.linspace(-30, 30, h)[:, None, None] + rng.normal(0, 4, (h, w, 1))
    return np.clip(base[None, None] + ramp, 0, 255).astype(np.uint8)


def _footprint(box: np.ndarray, shape: str) -> tuple[slice, slice, np.ndarray]:
    """The rows, columns and boolean mask of the pixels :func:`_paint` writes for ``box``."""
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    rows, cols = slice(y1, y2 + 1), slice(x1, x2 + 1)
    mask = np.ones((y2 - y1 + 1, x2 - x1 + 1), dtype=bool)
    if shape == "ellipse":
        ys, xs = np.ogrid[y1 : y2 + 1, x1 : x2 + 1]
        cy, cx = (y1 + y2) / 2, (x1 + x2) / 2
        ry, rx = max((y2 - y1) / 2, 0.5), max((x2 - x1) / 2, 0.5)
        mask = ((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2 <= 1.0
        mask[0, :] = True
        mask[min(max(int(cy - ry / 3) - y1, 0), y2 - y1), :] = True  # the eye stripe spans the box
    return rows, cols, mask


def _background_distance(h: int, w: int) -> np.ndarray:
    """The back wall and floor: 2.5 at the top row, 0.9 at the bottom (the floor comes nearer)."""
    return np.repeat(np.linspace(2.5, 0.9, h, dtype=np.float32)[:, None], w, axis=1)


def _paint(frame: np.ndarray, box: np.ndarray, colour: np.ndarray, shape: str) -> None:
    if np.isnan(box).any():
        return
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    ys, xs = np.ogrid[y1 : y2 + 1, x1 : x2 + 1]
    if shape == "ellipse":  # the animal: an ellipse with a darker eye stripe
        cy, cx, ry, rx = (
            (y1 + y2) / 2,
            (x1 + x2) / 2,
            max((y2 - y1) / 2, 0.5),
            max((x2 - x1) / 2, 0.5),
        )
        mask = ((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2 <= 1.0
        mask[0, :] |= True  # a flat top row keeps the painted extent equal to the box
        frame[y1 : y2 + 1, x1 : x2 + 1][mask] = colour
        frame[int(cy - ry / 3), x1 : x2 + 1] = colour // 3
    else:  # the object: a rectangle with stripes
        patch = frame[y1 : y2 + 1, x1 : x2 + 1]
        patch[:] = colour
        patch[:: max(2, (y2 - y1) // 5)] = colour // 2


class SyntheticGenerator:
    """Seeded procedural videos with true boxes; the seed alone reproduces a sample."""

    name = "synthetic"
    #: its videos carry the ground truth that ``--tracker annotations`` reads
    writes_annotations = True
    config_class = SyntheticConfig

    def __init__(self, config: SyntheticConfig | None = None, **options: Any) -> None:
        self.config = config or SyntheticConfig(**options)

    def settings(self) -> dict[str, Any]:
        return {"generator": self.name, **asdict(self.config)}

    def scenario_for(self, prompt: DSRPrompt, seed: int) -> str:
        """The scenario a seed draws for a prompt (forced when ``config.scenario`` is set)."""
        if self.config.scenario == CYCLE:
            return SCENARIOS[seed % len(SCENARIOS)]
        if self.config.scenario:
            return self.config.scenario
        names = [s for s in SCENARIOS if self.config.weights.get(s, 0) > 0]
        p = np.array([self.config.weights[s] for s in names], dtype=float)
        return str(self._rng(prompt, seed, "scenario").choice(names, p=p / p.sum()))

    def _rng(self, prompt: DSRPrompt, seed: int, stream: str) -> np.random.Generator:
        key = hashlib.sha1(f"{prompt.render()}|{seed}|{stream}".encode()).digest()
        return np.random.default_rng(int.from_bytes(key[:8], "little"))

    def generate(self, prompt: DSRPrompt, seeds: Sequence[int]) -> list[GeneratedVideo]:
        return [self.generate_one(prompt, int(seed)) for seed in seeds]

    def generate_one(self, prompt: DSRPrompt, seed: int) -> GeneratedVideo:
        cfg = self.config
        scenario = self.scenario_for(prompt, seed)
        rng = self._rng(prompt, seed, "scene")
        animal, obj, second, distance = _scene(scenario, prompt, cfg, rng)
        visible = _visible(scenario, cfg.num_frames, rng)
        animal = _clip(animal, cfg.height, cfg.width)
        animal[~visible] = np.nan
        obj = _clip(obj, cfg.height, cfg.width)
        if scenario == "object_missing":
            obj[:] = np.nan
        second = None if second is None else _clip(second, cfg.height, cfg.width)
        depth = entities = None
        if needs_depth(*relation_names(prompt)):
            frames, depth, entities = _render_in_depth(
                prompt, _background(cfg.height, cfg.width, rng), animal, obj, second, distance
            )
            animal = _visible_box(entities, ENTITY_ANIMAL)
            obj = _visible_box(entities, ENTITY_OBJECT)
            second = None if second is None else _visible_box(entities, ENTITY_SECOND_ANIMAL)
        else:
            frames = self._render(prompt, animal, obj, second, rng)
        annotations = Annotations(
            detections=_detections(prompt, animal, obj, second),
            animal_boxes=animal,
            object_boxes=obj,
            scenario=scenario,
            depth=depth,
            entities=entities,
        )
        settings = {**self.settings(), "scenario": scenario}
        return GeneratedVideo(
            frames=frames, fps=cfg.fps, seed=seed, settings=settings, annotations=annotations
        )

    def _render(
        self,
        prompt: DSRPrompt,
        animal: np.ndarray,
        obj: np.ndarray,
        second: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        cfg = self.config
        frames = np.repeat(_background(cfg.height, cfg.width, rng)[None], cfg.num_frames, axis=0)
        a_col, o_col = _colour(prompt.animal), _colour("object:" + prompt.object)
        for t in range(cfg.num_frames):
            _paint(frames[t], obj[t], o_col, "rect")
            if second is not None:
                _paint(frames[t], second[t], a_col, "ellipse")
            _paint(frames[t], animal[t], a_col, "ellipse")
        return frames


def _render_in_depth(
    prompt: DSRPrompt,
    background: np.ndarray,
    animal: np.ndarray,
    obj: np.ndarray,
    second: np.ndarray | None,
    distance: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames, true distance (T, H, W; float16) and entity map (T, H, W; uint8) of a scene placed
    in depth. Painter's algorithm: per frame the entities are painted farthest first, so the
    nearer one hides the other where they overlap (the object and the second animal stand at 1.0,
    the animal at ``distance[t]``)."""
    n, (h, w) = len(animal), background.shape[:2]
    frames = np.repeat(background[None], n, axis=0)
    depth = np.repeat(_background_distance(h, w)[None], n, axis=0)
    entities = np.zeros((n, h, w), dtype=np.uint8)
    a_col, o_col = _colour(prompt.animal), _colour("object:" + prompt.object)
    for t in range(n):
        items = [(1.0, obj[t], o_col, "rect", ENTITY_OBJECT)]
        if second is not None:
            items.append((1.0, second[t], a_col, "ellipse", ENTITY_SECOND_ANIMAL))
        items.append((float(distance[t]), animal[t], a_col, "ellipse", ENTITY_ANIMAL))
        for dist, box, colour, shape, entity in sorted(items, key=lambda it: -it[0]):
            if np.isnan(box).any():
                continue
            _paint(frames[t], box, colour, shape)
            rows, cols, mask = _footprint(box, shape)
            depth[t, rows, cols][mask] = dist
            entities[t, rows, cols][mask] = entity
    return frames, depth.astype(np.float16), entities


def _visible_box(entities: np.ndarray, entity: int) -> np.ndarray:
    """Tight xyxy box (T, 4) of each frame's visible pixels of ``entity``; NaN where none shows
    (inclusive pixel extent, as the trackers' masks give)."""
    out = np.full((len(entities), 4), np.nan)
    for t, frame in enumerate(entities == entity):
        ys, xs = np.flatnonzero(frame.any(axis=1)), np.flatnonzero(frame.any(axis=0))
        if ys.size:
            out[t] = (xs[0], ys[0], xs[-1], ys[-1])
    return out


def _detections(
    prompt: DSRPrompt, animal: np.ndarray, obj: np.ndarray, second: np.ndarray | None
) -> tuple[tuple[tuple[str, tuple[float, float, float, float]], ...], ...]:
    out = []
    for t in range(len(animal)):
        found = [(prompt.animal, animal[t]), (prompt.object, obj[t])]
        if second is not None:
            found.append((prompt.animal, second[t]))
        out.append(
            tuple((label, box_tuple(box)) for label, box in found if not np.isnan(box).any())
        )
    return tuple(out)
