"""Dataset and model cards, rendered from build records with templates shipped in the package."""

from __future__ import annotations

from dsr.cards.render import render_dataset_card, sanitize_command

__all__ = ["render_dataset_card", "sanitize_command"]
