"""What a judge run will send: requests, tokens and, for known OpenAI models, dollars.

Image tokens of OpenAI's tile models follow their published rule for ``detail`` high (and auto,
which picks high for frames this size): the image is fitted into 2048 × 2048, scaled down so its
shorter side is at most 768, then costs ``base + tile × (number of 512-pixel tiles)``; ``low``
costs ``base``. Other models' image tokens are estimated as one token per 32 × 32 pixels
(Qwen3-VL: 16-pixel patches merged 2 × 2); videos sent whole (``--video``) are not counted, the
server decides their frames. Text is estimated at 4 characters a token. Prices are USD per million
tokens as OpenAI listed them (:data:`PRICES_AS_OF`): an estimate, not a bill.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dsr.judge.frames import FrameEncoding

__all__ = [
    "PRICES",
    "PRICES_AS_OF",
    "Estimate",
    "ModelPrice",
    "estimate",
    "image_tokens",
    "known_price",
]

PRICES_AS_OF = "2025-06, openai.com/api/pricing"


@dataclass(frozen=True)
class ModelPrice:
    """USD per million input and output tokens, and the image-token rule of the model."""

    input_per_m: float
    output_per_m: float
    image_base: int = 85
    image_tile: int = 170


#: Known OpenAI vision models (dated snapshots such as gpt-4o-2024-08-06 match their family).
PRICES: dict[str, ModelPrice] = {
    "gpt-4o": ModelPrice(2.50, 10.00),
    "gpt-4o-mini": ModelPrice(0.15, 0.60, image_base=2833, image_tile=5667),
    "gpt-4.1": ModelPrice(2.00, 8.00),
}
_TOKENS_PER_PATCH_SIDE = 32
_CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class Estimate:
    """Requests to send and their estimated tokens; ``cost_usd`` only for a known model."""

    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    images_counted: bool


def known_price(model: str) -> ModelPrice | None:
    """The price of ``model`` or of the family of a dated snapshot (longest name first)."""
    name = model.rsplit("/", 1)[-1].lower()
    for family in sorted(PRICES, key=len, reverse=True):
        if name == family or (
            name.startswith(family + "-") and name[len(family) + 1 : len(family) + 2].isdigit()
        ):
            return PRICES[family]
    return None


def _sent_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def image_tokens(
    width: int, height: int, price: ModelPrice | None, detail: str | None = None
) -> int:
    """Tokens of one image of ``width`` × ``height`` as sent (see the module docstring)."""
    if price is None:
        return math.ceil(width / _TOKENS_PER_PATCH_SIDE) * math.ceil(
            height / _TOKENS_PER_PATCH_SIDE
        )
    if detail == "low":
        return price.image_base
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = math.floor(w * scale), math.floor(h * scale)
    return price.image_base + price.image_tile * math.ceil(w / 512) * math.ceil(h / 512)


def estimate(
    model: str,
    sizes: list[tuple[int, int]],
    questions: list[str],
    enc: FrameEncoding,
    max_tokens: int,
) -> Estimate:
    """The estimate for one request per question, ``sizes[i]`` the video size of request ``i``."""
    price = known_price(model)
    text = sum(len(q) for q in questions) // _CHARS_PER_TOKEN + 60 * len(
        questions
    )  # preamble, framing
    images = 0
    if not enc.video:
        for width, height in sizes:
            sent = _sent_size(int(width or 1), int(height or 1), enc.max_side)
            images += enc.frames * image_tokens(*sent, price, enc.detail)
    output = len(questions) * (max_tokens or 16)
    cost = None
    if price is not None:
        cost = ((text + images) * price.input_per_m + output * price.output_per_m) / 1e6
    return Estimate(len(questions), text + images, output, cost, not enc.video)
