"""``EvalConfig``: everything ``dsr eval`` needs, with help text per field and checks that name
the value and the fix. Imports no model library."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dsr.errors import ConfigError
from dsr.evaluation.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES
from dsr.limits import MAX_RESAMPLES, check_max
from dsr.paper_exact import PAPER_EXACT
from dsr.scoring.correctness import DEFAULT_THRESHOLDS

__all__ = [
    "CLIP_IQA_VARIANTS",
    "ID_VARIANTS",
    "METRICS",
    "MODEL_METRICS",
    "PAPER_EXACT_EVAL",
    "TAU_VARIANTS",
    "EvalConfig",
]

#: dsr: the DSR metrics (from the rows); id: ID consistency; clip_iqa: CLIP-IQA; iq:
#: imaging quality.
METRICS = ("dsr", "id", "clip_iqa", "iq")
#: The metrics that run a model over the videos.
MODEL_METRICS = ("id", "clip_iqa", "iq")
DEFAULT_METRICS = ("dsr", "id", "clip_iqa")
#: How ID consistency is computed (dsr.evaluation.frames): the authors' calc_metric.py, or dsr's
#: earlier time-order variant.
ID_VARIANTS = ("authors", "time-order")
#: How CLIP-IQA is computed (dsr.evaluation.clip_iqa): torchmetrics' default clip_iqa model as the
#: authors ran it, or a Hugging Face CLIP (--clip) on its processor's center crop.
CLIP_IQA_VARIANTS = ("authors", "hf-clip")
#: The Correct@τ threshold: τ as written (0.7), or as the authors' np.arange(0, 1, 0.1) holds it.
TAU_VARIANTS = ("exact", "authors")
#: What ``--paper-exact`` sets (any other value given with it is refused).
PAPER_EXACT_EVAL: dict[str, str] = dict(PAPER_EXACT[("evaluation", "dsr-eval")])


@dataclass
class EvalConfig:
    """Settings of one evaluation of a ``samples`` config (docs/method.md §7)."""

    dataset: str = field(
        metadata={
            "help": "dataset folder or Hub dataset repo id[@revision] with the samples to evaluate"
        }
    )
    out: str = field(
        metadata={"help": "folder of the results (eval_results.json, per_sample.parquet, plots)"}
    )
    config: str = field(
        default="samples",
        metadata={"help": "config holding the samples (videos needed for id, clip_iqa, iq)"},
    )
    split: str = field(
        default="test",
        metadata={"help": "split to evaluate (the paper: test, 120 prompts x seeds 0-4)"},
    )
    metrics: tuple[str, ...] = field(
        default=DEFAULT_METRICS,
        metadata={"help": "metrics: dsr, id, clip_iqa, iq (iq needs dsr[quality])"},
    )
    name: str | None = field(
        default=None,
        metadata={
            "help": (
                "model name in tables (default: the dataset's repo id or folder name) and in "
                "the --model-card (default: the adapter's repo id or folder name)"
            )
        },
    )
    thresholds: tuple[float, ...] = field(
        default=DEFAULT_THRESHOLDS,
        metadata={"help": "thresholds of the correctness curve (0.7 always included)"},
    )
    paper_exact: bool = field(
        default=False,
        metadata={
            "help": (
                "compute every number as the authors' calc_metric.py and calc_correctness.py: "
                "--id-variant authors and --clip-iqa-variant authors (the defaults) and "
                "--tau-variant authors (the threshold 0.7000000000000001)"
            )
        },
    )
    id_variant: str = field(
        default="authors",
        metadata={
            "help": (
                "authors: crops in the tracker's order (key frame, key+1 ... last, key-1 ... 0) "
                "up to the first box without extent, float pixels, >= 20 crops per video (their "
                "calc_metric.py); time-order: every usable frame in time order, 8-bit pixels "
                "(dsr's earlier variant)"
            ),
            "choices": ID_VARIANTS,
        },
    )
    clip_iqa_variant: str = field(
        default="authors",
        metadata={
            "help": (
                "authors: torchmetrics' default clip_iqa model (piq's CLIP ResNet-50) on the full "
                "frame, as the paper (needs spatialalign[paper-metrics]); hf-clip: the Hugging "
                "Face CLIP of --clip on its processor's center crop (not comparable with the "
                "paper)"
            ),
            "choices": CLIP_IQA_VARIANTS,
        },
    )
    clip_iqa_weights: str | None = field(
        default=None,
        metadata={
            "help": (
                "weights file of piq's CLIP ResNet-50 (RN50.pt, piq's or OpenAI's) for "
                "--clip-iqa-variant authors on a machine without internet (default: piq "
                "downloads it to ~/.cache/clip)"
            )
        },
    )
    tau_variant: str | None = field(
        default=None,
        metadata={
            "help": (
                "Correct@tau threshold: exact (0.7; the default) or authors (as np.arange(0, 1, "
                "0.1) holds it: 0.7000000000000001; set by --paper-exact). Only a score of "
                "exactly 0.7 (or 0.3, 0.6) is counted differently"
            ),
            "choices": TAU_VARIANTS,
        },
    )
    dino: str = field(
        default="facebook/dinov2-base",
        metadata={"help": "DINOv2 for ID consistency: Hub id or folder (the authors: ViT-B/14)"},
    )
    id_crop_size: int = field(
        default=518, metadata={"help": "crop side given to DINOv2 (the authors: 518)"}
    )
    clip: str = field(
        default="openai/clip-vit-base-patch16",
        metadata={
            "help": (
                "Hugging Face CLIP of --clip-iqa-variant hf-clip: Hub id or folder (the "
                "authors' variant uses piq's ResNet-50 instead)"
            )
        },
    )
    clip_anchors: tuple[str, ...] = field(
        default=("natural", "quality"),
        metadata={"help": "CLIP-IQA anchor pairs (natural, quality)"},
    )
    iq_weights: str | None = field(
        default=None,
        metadata={
            "help": (
                "MUSIQ checkpoint trained on SPAQ (musiq_spaq_ckpt-358bb6af.pth) for "
                "imaging quality"
            )
        },
    )
    batch_size: int = field(default=64, metadata={"help": "crops or frames per model forward"})
    videos_per_batch: int = field(
        default=4, metadata={"help": "videos decoded and batched together"}
    )
    device: str | None = field(
        default=None,
        metadata={"help": "torch device (default cuda:<LOCAL_RANK> if available, else cpu)"},
    )
    dtype: str = field(
        default="float32",
        metadata={
            "help": "model dtype: float32 (default, exact), float16, bfloat16, auto (fp16 on CUDA)"
        },
    )
    n_resamples: int = field(
        default=DEFAULT_RESAMPLES, metadata={"help": "bootstrap resamples of the prompts"}
    )
    bootstrap_seed: int = field(default=0, metadata={"help": "seed of the bootstrap resamples"})
    level: float = field(
        default=DEFAULT_LEVEL, metadata={"help": "confidence level of the intervals"}
    )
    num_shards: int | None = field(
        default=None, metadata={"help": "shards in all (default: WORLD_SIZE or 1)"}
    )
    shard_index: int | None = field(
        default=None, metadata={"help": "this shard (default: RANK or 0)"}
    )
    command: str = field(
        default="", metadata={"help": "command line recorded in eval_results.json"}
    )

    def __post_init__(self) -> None:
        self._resolve_variants()
        self.metrics = tuple(dict.fromkeys(m.strip() for m in self.metrics if m.strip()))
        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown or not self.metrics:
            raise ConfigError(
                f"metrics {', '.join(unknown) or '(none)'}: choose from {', '.join(METRICS)} "
                "(e.g. --metrics dsr,id,clip_iqa)"
            )
        if "iq" in self.metrics and not self.iq_weights:
            raise ConfigError(
                "--metrics iq needs --iq-weights PATH: the MUSIQ checkpoint trained on SPAQ "
                "(musiq_spaq_ckpt-358bb6af.pth, as VBench uses)"
            )
        self._check_clip_iqa()
        if self.iq_weights and not Path(self.iq_weights).expanduser().is_file():
            raise ConfigError(
                f"--iq-weights {self.iq_weights}: no such file (the MUSIQ SPAQ checkpoint, "
                "musiq_spaq_ckpt-358bb6af.pth)"
            )
        if self.batch_size < 1 or self.videos_per_batch < 1:
            raise ConfigError(
                f"batch_size={self.batch_size}, videos_per_batch={self.videos_per_batch}: "
                "both must be >= 1"
            )
        if self.id_crop_size < 14:
            raise ConfigError(
                f"id_crop_size={self.id_crop_size}: must be >= 14 (one DINOv2 patch; the "
                "authors use 518)"
            )
        if self.dtype not in ("float32", "float16", "bfloat16", "auto"):
            raise ConfigError(f"dtype={self.dtype!r}: choose float32, float16, bfloat16 or auto")
        if self.n_resamples < 1 or not 0.0 < self.level < 1.0:
            raise ConfigError(
                f"n_resamples={self.n_resamples}, level={self.level}: need >= 1 resamples and a "
                "level in (0, 1), e.g. 10000 and 0.95"
            )
        check_max("n_resamples", self.n_resamples, MAX_RESAMPLES, "default 10,000")
        if not all(0.0 <= t <= 1.0 for t in self.thresholds):
            raise ConfigError(f"thresholds {self.thresholds}: each must lie in [0, 1]")
        from dsr.evaluation.models import ANCHORS

        bad = [a for a in self.clip_anchors if a not in ANCHORS]
        if bad or not self.clip_anchors:
            raise ConfigError(f"clip_anchors {bad or '(none)'}: choose from {', '.join(ANCHORS)}")

    def _resolve_variants(self) -> None:
        """``--paper-exact`` sets the authors' variants; another one given with it is refused."""
        if self.tau_variant is None:
            self.tau_variant = "authors" if self.paper_exact else "exact"
        for name, choices in (
            ("id_variant", ID_VARIANTS),
            ("clip_iqa_variant", CLIP_IQA_VARIANTS),
            ("tau_variant", TAU_VARIANTS),
        ):
            value = getattr(self, name)
            option = "--" + name.replace("_", "-")
            if value not in choices:
                raise ConfigError(f"{option} {value!r}: choose {' or '.join(choices)}")
            if self.paper_exact and value != PAPER_EXACT_EVAL[name]:
                raise ConfigError(
                    f"--paper-exact sets {option} {PAPER_EXACT_EVAL[name]}, but {value} was "
                    "given: drop --paper-exact or that option"
                )

    def _check_clip_iqa(self) -> None:
        """The authors' CLIP-IQA needs piq (the extra) and, when given, a weights file."""
        if "clip_iqa" not in self.metrics or self.clip_iqa_variant != "authors":
            return
        import importlib.util

        if importlib.util.find_spec("piq") is None:
            raise ConfigError(
                "CLIP-IQA as the authors compute it needs piq: pip install "
                "'spatialalign[paper-metrics]' (or --clip-iqa-variant hf-clip for a Hugging "
                "Face CLIP, not comparable with the paper)"
            )
        if self.clip_iqa_weights and not Path(self.clip_iqa_weights).expanduser().is_file():
            raise ConfigError(
                f"--clip-iqa-weights {self.clip_iqa_weights}: no such file (piq's CLIP "
                "ResNet-50, RN50.pt)"
            )

    @property
    def model_metrics(self) -> tuple[str, ...]:
        return tuple(m for m in self.metrics if m in MODEL_METRICS)
