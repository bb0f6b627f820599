"""An independent, plain-Python DSR-Score (docs/method.md §4), written from the spec and not from
the code: one frame at a time, with ``math`` only. Tests compare the vectorized scorer and the
pipeline's stored scores with it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Box = Sequence[float]
#: Unit vector of each relation, image y pointing down.
AXIS = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "top": (0.0, -1.0)}


@dataclass(frozen=True)
class Reference:
    """What docs/method.md §4 says of one video; the components are None when it is invalid."""

    valid: bool
    n_frames: int
    score: float | None
    r_init: float | None
    r_final: float | None
    g_init: float | None
    g_final: float | None
    ssr_initial: list[float | None]  # per input frame, None where unusable
    ssr_final: list[float | None]


def usable(animal: Box | None, obj: Box | None) -> bool:
    """Both boxes present, finite, with positive width and height."""
    if animal is None or obj is None:
        return False
    if not all(math.isfinite(v) for v in [*animal, *obj]):
        return False
    return animal[2] > animal[0] and animal[3] > animal[1] and obj[2] > obj[0] and obj[3] > obj[1]


def ssr(animal: Box, obj: Box, relation: str) -> float:
    """r(frame, relation) = cos · d of docs/method.md §4."""
    vx = (animal[0] + animal[2]) / 2 - (obj[0] + obj[2]) / 2
    vy = (animal[1] + animal[3]) / 2 - (obj[1] + obj[3]) / 2
    ux, uy = AXIS[relation]
    length = math.hypot(vx, vy)
    cos = (vx * ux + vy * uy) / length if length > 0 else 0.0
    if relation == "top":
        mean_height = ((animal[3] - animal[1]) + (obj[3] - obj[1])) / 2
        d = min(abs(vy) / mean_height, 1.0)
    else:
        mean_width = ((animal[2] - animal[0]) + (obj[2] - obj[0])) / 2
        d = min(abs(vx) / mean_width, 1.0)
    return cos * d


def reference_score(
    animal: Sequence[Box | None],
    obj: Sequence[Box | None],
    initial: str,
    final: str,
    m: int = 3,
    min_frames: int = 20,
) -> Reference:
    """The DSR-Score of one video, frame by frame."""
    per_frame_i: list[float | None] = []
    per_frame_f: list[float | None] = []
    for a, o in zip(animal, obj, strict=True):
        if a is None or o is None or not usable(a, o):
            per_frame_i.append(None)
            per_frame_f.append(None)
        else:
            per_frame_i.append(ssr(a, o, initial))
            per_frame_f.append(ssr(a, o, final))
    r_i = [v for v in per_frame_i if v is not None]
    r_f = [v for v in per_frame_f if v is not None]
    n = len(r_i)
    if n < min_frames or n == 0:
        return Reference(False, n, None, None, None, None, None, per_frame_i, per_frame_f)
    r_init = sum(r_i[:m]) / len(r_i[:m])  # the mean of the first m (all of them when fewer)
    r_final = sum(r_f[-m:]) / len(r_f[-m:])
    g_init, g_final = (r_i[0] - r_i[-1]) / 2, (r_f[-1] - r_f[0]) / 2
    score = (r_init + r_final + g_init + g_final) / 8 + 0.5
    return Reference(True, n, score, r_init, r_final, g_init, g_final, per_frame_i, per_frame_f)
