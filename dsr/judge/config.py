"""Settings of ``dsr judge``: :class:`JudgeOptions` (the command's options, generated from the
fields) and :class:`JudgeConfig` (the options plus what to judge and where to write)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dsr.errors import ConfigError
from dsr.judge.frames import DETAILS, FrameEncoding
from dsr.limits import MAX_CONCURRENCY, check_max

__all__ = ["DEFAULT_TAU", "JudgeConfig", "JudgeOptions"]

#: The reliability table's headline threshold (the paper's τ).
DEFAULT_TAU = 0.7


def _help(text: str, choices: tuple[str, ...] | None = None) -> dict[str, object]:
    return {"help": text, "choices": choices} if choices else {"help": text}


@dataclass
class JudgeOptions:
    """How the VLM judge asks (model, frames, requests) and what it builds from the answers."""

    model: str | None = field(
        default=None,
        metadata=_help("Served vision model, e.g. gpt-4o or Qwen/Qwen3-VL-8B-Instruct (required)."),
    )
    base_url: str | None = field(
        default=None,
        metadata=_help(
            "OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 for vLLM (default: "
            "$OPENAI_BASE_URL, else api.openai.com). The key is read from the environment only."
        ),
    )
    api_key_env: str = field(
        default="OPENAI_API_KEY", metadata=_help("Environment variable holding the API key.")
    )
    frames: int = field(
        default=8, metadata=_help("K: frames sampled uniformly, first and last included.")
    )
    video: bool = field(
        default=False,
        metadata=_help(
            "Send the mp4 itself (a video_url part) instead of K frames, for servers that "
            "take video input."
        ),
    )
    max_side: int = field(
        default=832,
        metadata=_help("Longest side of a sent frame in pixels (only ever scaled down)."),
    )
    jpeg_quality: int = field(default=90, metadata=_help("JPEG quality of the sent frames."))
    detail: str | None = field(
        default=None,
        metadata=_help("OpenAI image detail (low, high, auto); unset: not sent.", DETAILS),
    )
    temperature: float = field(default=0.0, metadata=_help("Sampling temperature."))
    max_tokens: int = field(
        default=16, metadata=_help("Most tokens of one answer (max_tokens); 0: not sent.")
    )
    concurrency: int = field(default=4, metadata=_help("Requests in flight at once."))
    timeout: float = field(default=60.0, metadata=_help("Seconds before one request times out."))
    max_retries: int = field(
        default=4,
        metadata=_help("Retries per request on 408, 409, 429, 5xx, timeouts and lost connections."),
    )
    backoff: float = field(
        default=1.0, metadata=_help("First retry delay in seconds; doubles each retry.")
    )
    backoff_max: float = field(
        default=30.0, metadata=_help("Longest retry delay (also caps Retry-After).")
    )
    split: list[str] = field(
        default_factory=lambda: ["train", "test"],
        metadata=_help("Splits of the samples to judge (missing ones are skipped)."),
    )
    limit: int | None = field(
        default=None,
        metadata=_help(
            "Judge only the first N samples of each split (by prompt and seed), e.g. to try a "
            "model cheaply."
        ),
    )
    tau: float = field(
        default=DEFAULT_TAU,
        metadata=_help(
            "Headline threshold of the reliability table (both YES vs DSR-Score >= tau)."
        ),
    )
    bins: int = field(
        default=10, metadata=_help("Bins of r_init and r_f over [-1, 1] in the YES/NO shares.")
    )
    pairs: bool = field(
        default=False,
        metadata=_help(
            "Also build the `pairs-vlm` config (both YES: winner, else loser) for `dsr train "
            "--pairs-config pairs-vlm`."
        ),
    )
    confirm_above: int = field(
        default=100,
        metadata=_help("Ask before sending more requests than this (--yes skips the question)."),
    )

    def __post_init__(self) -> None:
        if not self.model:
            raise ConfigError(
                "--model is required: the name the endpoint serves, e.g. gpt-4o or "
                "Qwen/Qwen3-VL-8B-Instruct"
            )
        if self.base_url is not None and not str(self.base_url).startswith(("http://", "https://")):
            raise ConfigError(
                f"base_url={self.base_url!r}: expected an http(s) URL such as http://localhost:8000/v1"
            )
        if self.concurrency < 1:
            raise ConfigError(f"concurrency={self.concurrency}: must be at least 1")
        check_max("concurrency", self.concurrency, MAX_CONCURRENCY, "default 4")
        if not self.timeout > 0:
            raise ConfigError(f"timeout={self.timeout}: must be more than 0 seconds")
        for name in (
            "backoff",
            "backoff_max",
            "max_retries",
            "temperature",
            "max_tokens",
            "confirm_above",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name}={getattr(self, name)}: must be 0 or more")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit={self.limit}: must be at least 1 (or unset for every sample)")
        if not 0.0 <= self.tau <= 1.0:
            raise ConfigError(f"tau={self.tau}: must lie in [0, 1] (the paper uses 0.7)")
        if not 1 <= self.bins <= 100:
            raise ConfigError(f"bins={self.bins}: choose 1 … 100 (default 10)")
        if not self.split:
            raise ConfigError("split is empty: name at least one split (train, test)")
        self.encoding()  # validates the frame settings

    def encoding(self) -> FrameEncoding:
        return FrameEncoding(self.frames, self.max_side, self.jpeg_quality, self.detail, self.video)

    def sampling(self) -> dict[str, Any]:
        """The request fields besides the messages."""
        body: dict[str, Any] = {"model": self.model, "temperature": self.temperature}
        if self.max_tokens:
            body["max_tokens"] = self.max_tokens
        return body


@dataclass
class JudgeConfig:
    """Everything ``dsr judge`` needs."""

    source: str = field(
        metadata={"help": "dataset folder or Hub repo id (optionally repo@revision) with `samples`"}
    )
    options: JudgeOptions = field(metadata={"help": "how to ask and what to build"})
    out: str | None = field(
        default=None,
        metadata={"help": "dataset folder receiving `judgments` (default: source, when local)"},
    )
    command: str = field(default="", metadata={"help": "command line recorded in the card"})

    def __post_init__(self) -> None:
        if self.out is None:
            if not Path(self.source).is_dir():
                raise ConfigError(
                    f"--out is required when judging {self.source!r} (not a local folder): give "
                    "the dataset folder to write the judgments to"
                )
            self.out = self.source

    @property
    def repo_and_revision(self) -> tuple[str, str | None]:
        """The source and its revision (``repo@rev``; a local folder has none)."""
        if Path(self.source).exists() or "@" not in self.source:
            return self.source, None
        repo, _, revision = self.source.rpartition("@")
        return repo, revision or None

    def settings(self) -> dict[str, Any]:
        """The settings recorded with the judgments, without the base URL (the run records the
        endpoint it called, without credentials)."""
        values = asdict(self.options)
        values.pop("base_url")
        values["encoding"] = self.options.encoding().describe()
        return values
