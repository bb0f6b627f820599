"""Dataset and model cards, rendered from build records with templates shipped in the package."""

from __future__ import annotations

from dsr.cards.model_card import render_model_card, usage_snippet
from dsr.cards.render import (
    mask_local_paths,
    mask_secrets,
    publishable_values,
    render_dataset_card,
    sanitize_command,
)

__all__ = [
    "mask_local_paths",
    "mask_secrets",
    "publishable_values",
    "render_dataset_card",
    "render_model_card",
    "sanitize_command",
    "usage_snippet",
]
