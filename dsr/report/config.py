"""The settings of ``dsr report`` (light to import: the CLI builds its options from it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dsr.errors import ConfigError

__all__ = ["ReportConfig"]


@dataclass(frozen=True)
class ReportConfig:
    """What to report on and where to write it."""

    source: str = field(
        metadata={"help": "dataset folder, or Hub dataset repo id namespace/name[@revision]"}
    )
    out: str = field(
        metadata={"help": "folder to write the report into (created; index.html is the overview)"}
    )
    config: str = field(
        default="samples",
        metadata={
            "help": "config whose rows are the samples: samples (with "
            "videos), tracks (no videos), or an eval config"
        },
    )
    splits: tuple[str, ...] = field(
        default=(), metadata={"help": "splits to include (default: all)"}
    )
    link_videos: bool = field(
        default=False,
        metadata={
            "help": "hard-link (a symlink across file systems) the mp4 "
            "files of the folder's work area instead of copying "
            "the embedded bytes"
        },
    )
    eval_results: str | None = field(
        default=None,
        metadata={
            "help": "eval_results.json (or its folder) to show; default: the dataset folder's own"
        },
    )
    cache_dir: str | None = field(
        default=None,
        metadata={
            "help": "Hub cache folder for a downloaded dataset (default: the Hugging Face cache)"
        },
    )

    def __post_init__(self) -> None:
        if not self.config or "/" in self.config:
            raise ConfigError(
                f"--config {self.config!r}: give a config name such as samples or tracks"
            )
