"""Upper limits on sizes, checked when a config is built, before any work starts.

A typo such as ``--n-train 1000000000000`` would otherwise run out of memory (or loop) long after
the command started. Each limit sits orders of magnitude above the paper's value (given beside
it), so no real build meets it; the message names the value, the limit and the paper's value.
"""

from __future__ import annotations

from dsr.errors import ConfigError

__all__ = [
    "MAX_BATCH_SIZE",
    "MAX_CONCURRENCY",
    "MAX_FRAMES",
    "MAX_PROMPTS_PER_SPLIT",
    "MAX_REQUEST_PROMPTS",
    "MAX_RESAMPLES",
    "MAX_ROWS_PER_SHARD",
    "MAX_SEED",
    "MAX_SEEDS_PER_PROMPT",
    "MAX_SHARDS",
    "MAX_SIDE",
    "MAX_STEPS",
    "MAX_VIDEO_BYTES",
    "check_max",
    "check_video_size",
]

MAX_PROMPTS_PER_SPLIT = 100_000  # paper: 500 train, 120 test
MAX_SEEDS_PER_PROMPT = 1_000  # paper: 10 train, 5 test
MAX_SEED = 2**32 - 1  # the range every seeded library (numpy, torch, DiffSynth) accepts
MAX_BATCH_SIZE = 1_024  # paper: 1
MAX_SHARDS = 100_000
MAX_ROWS_PER_SHARD = 1_000_000  # default 200
MAX_FRAMES = 10_000  # paper: 81
MAX_SIDE = 8_192  # paper: 480 × 832
MAX_STEPS = 10_000  # paper: 50 sampling steps
MAX_VIDEO_BYTES = (
    16 * 2**30
)  # uint8 frames of one video in memory; paper: 81 × 480 × 832 × 3 ≈ 97 MB
MAX_REQUEST_PROMPTS = 1_000  # prompts asked of an LLM per request; default 10
MAX_CONCURRENCY = 1_024  # LLM requests in flight; default 4
MAX_RESAMPLES = 1_000_000  # bootstrap resamples (one row of prompt indices each); default 10,000


def check_max(name: str, value: float, limit: float, paper: str = "") -> None:
    """Refuse ``value`` above ``limit`` with a message naming both (and the paper's value)."""
    if value > limit:
        context = f" ({paper})" if paper else ""
        raise ConfigError(
            f"{name}={value:,} exceeds the limit of {limit:,}{context}: give a smaller value"
        )


def check_video_size(num_frames: int, height: int, width: int, what: str) -> None:
    """Refuse videos whose frame count, sides or uint8 frames in memory exceed the limits."""
    check_max(f"{what}.num_frames", num_frames, MAX_FRAMES, "the paper uses 81")
    check_max(f"{what}.height", height, MAX_SIDE, "the paper uses 480")
    check_max(f"{what}.width", width, MAX_SIDE, "the paper uses 832")
    size = num_frames * height * width * 3
    if size > MAX_VIDEO_BYTES:
        raise ConfigError(
            f"{what}: {num_frames} frames of {height}×{width} take {size / 2**30:.1f} GiB in "
            f"memory, above the limit of {MAX_VIDEO_BYTES // 2**30} GiB: use fewer frames or "
            "smaller ones (the paper: 81 frames of 480×832)"
        )
