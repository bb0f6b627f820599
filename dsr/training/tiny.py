"""The embedded default of ``dsr train --tiny`` and ``make demo``: a tiny random Wan pipeline and
settings that train it for a few steps on the CPU, with the real code path end to end."""

from __future__ import annotations

from pathlib import Path

__all__ = ["TINY_TRAINING", "tiny_base_model"]

#: Settings of a tiny run (any of them can still be given explicitly): 9 frames of 64×112 (the
#: demo's 240×416 videos, resized), 8 steps of 2 pairs, a learning rate large enough to move a
#: random model visibly in 8 steps. The warm-up is 1 step (the first step has a rate of 0, as in
#: the authors' schedule), then a cosine that reaches 0 at the last step (``cosine_horizon`` None:
#: ``max_steps``), so the 8 steps are not lost in a 300-step warm-up; a model this small needs no
#: activation checkpointing.
TINY_TRAINING: dict[str, object] = {
    "train_num_frames": 9,
    "train_height": 64,
    "train_width": 112,
    "max_sequence_length": 32,
    "max_steps": 8,
    "effective_batch_size": 2,
    "warmup_steps": 1,
    "cosine_horizon": None,
    "activation_checkpointing": False,
    "learning_rate": 5e-3,
    "logging_steps": 1,
    "save_steps": 4,
    "report_to": "none",
}

TINY_DIR = "tiny-wan"


def tiny_base_model(folder: str | Path) -> Path:
    """``folder/tiny-wan``, written once (a fixed seed: re-runs find the same weights)."""
    from dsr.generation.tiny import save_tiny_wan

    path = Path(folder) / TINY_DIR
    if not (path / "model_index.json").exists():
        save_tiny_wan(path, seed=0)
    return path
