"""The SpatialAlign training options, as a plain dataclass that imports neither torch nor
transformers: ``dsr train --help`` is built from it instantly, and :class:`SpatialAlignConfig`
(``dsr.training.config``) combines it with ``transformers.TrainingArguments``.

Fields defined here either are new (the method, the data, the adapter) or override a
``TrainingArguments`` default with the paper's value (docs/method.md §6): AdamW at lr 1e-4, 300
warm-up steps then a cosine with a 3000-step horizon stopped at 2400 steps (the authors'
``LambdaLR``), AdamW weight decay 0.01 (torch's default), no gradient clipping (Lightning's
default), effective batch 48, bf16 on a GPU, activation checkpointing on (the authors'
``run_train.sh`` always turns it on).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields

from dsr.errors import ConfigError
from dsr.generation.wan import DEFAULT_MODEL
from dsr.paper_exact import PAPER_EXACT

__all__ = ["DEFAULT_LORA_TARGETS", "SpatialAlignOptions"]

#: docs/method.md §6: the text-embedding projection and the cross-attention keys and values of every
#: block. ``*`` stands for a block index; the names are full so that self-attention (attn1) never
#: matches.
DEFAULT_LORA_TARGETS = (
    "condition_embedder.text_embedder.linear_1",
    "condition_embedder.text_embedder.linear_2",
    "blocks.*.attn2.to_k",
    "blocks.*.attn2.to_v",
)
_REGULARIZERS = ("zo", "sft", "none")
_TIMESTEP_SAMPLING = ("uniform", "logit_normal")
_PAIR_FORWARD = ("batched", "sequential")
_DTYPES = ("auto", "bfloat16", "float16", "float32")
_CACHE_DTYPES = ("float32", "bfloat16")
_TIMESTEP_DTYPES = ("float32", "bfloat16")
_VERSION = re.compile(r"v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?")


def _help(text: str, choices: tuple[str, ...] | None = None) -> dict[str, object]:
    return {"help": text, "choices": choices} if choices else {"help": text}


@dataclass
class SpatialAlignOptions:
    """What SpatialAlign adds to (or changes in) ``transformers.TrainingArguments``."""

    # -- data ------------------------------------------------------------------------------
    dataset: str | None = field(
        default=None,
        metadata=_help(
            "Dataset folder or Hub dataset repo id built by `dsr build-videos` (needs its samples "
            "and pairs configs)."
        ),
    )
    dataset_revision: str | None = field(
        default=None,
        metadata=_help(
            "Tag, branch or commit of a Hub dataset, e.g. v1.0.0 (recorded in the model card)."
        ),
    )
    pairs_config: str = field(
        default="pairs",
        metadata=_help(
            "Config holding the preference pairs (e.g. pairs-vlm for the VLM-reward ablation)."
        ),
    )
    samples_config: str = field(
        default="samples", metadata=_help("Config holding the videos of the pairs.")
    )
    split: str = field(default="train", metadata=_help("Split to train on."))
    tau_train: float | None = field(
        default=None,
        metadata=_help(
            "Re-derive winners (valid, DSR-Score >= tau) and losers from the samples with this "
            "threshold; unset: use the pairs config as built (tau 0.7)."
        ),
    )
    cache_dir: str | None = field(
        default=None,
        metadata=_help(
            "Folder of the precomputed latents and text embeddings, shared between runs "
            "[default: $DSR_CACHE_DIR or $HF_HOME/dsr/training-cache]."
        ),
    )
    # -- model -----------------------------------------------------------------------------
    base_model: str = field(
        default=DEFAULT_MODEL,
        metadata=_help("Hub id or local folder of the diffusers Wan T2V pipeline to adapt."),
    )
    base_model_revision: str | None = field(
        default=None, metadata=_help("Revision of a Hub base model.")
    )
    base_dtype: str = field(
        default="auto",
        metadata=_help(
            "dtype of the frozen base weights: auto (bfloat16 on CUDA, float32 on CPU), bfloat16, "
            "float16, float32. LoRA weights are always float32.",
            _DTYPES,
        ),
    )
    lora_rank: int = field(default=16, metadata=_help("LoRA rank (paper: 16)."))
    lora_alpha: float = field(default=16.0, metadata=_help("LoRA alpha (paper: 16)."))
    lora_dropout: float = field(default=0.0, metadata=_help("LoRA dropout."))
    lora_target_modules: list[str] = field(
        default_factory=lambda: list(DEFAULT_LORA_TARGETS),
        metadata=_help(
            "Full module names to adapt; '*' matches a block index. Default: "
            "text_embedder.linear_1/2 and blocks.*.attn2.to_k/to_v (docs/method.md §6; "
            "self-attention is never adapted)."
        ),
    )
    # -- objective -------------------------------------------------------------------------
    beta: float = field(default=1.0, metadata=_help("DPO temperature beta (paper: 1)."))
    reg: str = field(
        default="zo",
        metadata=_help(
            "Regularizer: zo (zeroth-order, the paper's), sft (the ablation) or none (plain "
            "Diffusion-DPO).",
            _REGULARIZERS,
        ),
    )
    lambda_zo: float = field(default=0.25, metadata=_help("Weight of the ZO term (paper: 0.25)."))
    lambda_sft: float = field(
        default=0.25,
        metadata=_help(
            "Weight of the SFT term when reg=sft (the paper does not state it; 0.25 "
            "mirrors lambda_zo)."
        ),
    )
    margin_clip: float = field(
        default=5.0, metadata=_help("The DPO margin is clipped to [-c, c] (paper: 5).")
    )
    timestep_sampling: str = field(
        default="uniform",
        metadata=_help(
            "uniform: an index of the shifted 1000-step training grid (the authors'); "
            "logit_normal: SD3-style.",
            _TIMESTEP_SAMPLING,
        ),
    )
    timestep_shift: float = field(
        default=5.0, metadata=_help("Flow shift of the training sigmas (paper: 5).")
    )
    num_train_timesteps: int = field(default=1000, metadata=_help("Size of the training grid."))
    logit_mean: float = field(default=0.0, metadata=_help("Mean of the logit-normal sampling."))
    logit_std: float = field(default=1.0, metadata=_help("Std of the logit-normal sampling."))
    shared_noise: bool = field(
        default=False,
        metadata=_help(
            "Give winner and loser the same noise (Diffusion-DPO's original); default: each its "
            "own (docs/method.md §6)."
        ),
    )
    timestep_dtype: str = field(
        default="float32",
        metadata=_help(
            "Precision of the conditioning timestep. bfloat16: the authors' (DiffSynth casts it to "
            "bf16 before add_noise and the transformer, so the 1000-step grid collapses to 294 "
            "noise levels and timesteps move by up to 2; set by --paper-exact); float32: every "
            "grid level as drawn.",
            _TIMESTEP_DTYPES,
        ),
    )
    paper_exact: bool = field(
        default=False,
        metadata=_help(
            "The authors' behaviour wherever ours differs: the conditioning timestep in bf16 "
            "(timestep_dtype=bfloat16). Schedule, optimizer and clipping are already theirs."
        ),
    )
    pair_forward: str = field(
        default="sequential",
        metadata=_help(
            "sequential: winner and loser one after the other (least peak memory at long "
            "sequences: 0.83x the authors' step at 7680 tokens with checkpointing, batched "
            "1.33x); batched: both in one forward (same loss and gradients).",
            _PAIR_FORWARD,
        ),
    )
    # -- precomputation --------------------------------------------------------------------
    train_num_frames: int | None = field(
        default=None,
        metadata=_help(
            "Frames per training clip (4k+1), sampled uniformly over the video; default: all "
            "stored frames."
        ),
    )
    train_height: int | None = field(
        default=None, metadata=_help("Resize frames to this height (multiple of 16).")
    )
    train_width: int | None = field(
        default=None, metadata=_help("Resize frames to this width (multiple of 16).")
    )
    max_sequence_length: int | None = field(
        default=None,
        metadata=_help(
            "Text tokens for the encoder; default: as at generation (the samples' "
            "settings), else 512."
        ),
    )
    cache_dtype: str = field(
        default="float32",
        metadata=_help(
            "dtype of the cached latents and text embeddings: float32 or bfloat16 (half the disk).",
            _CACHE_DTYPES,
        ),
    )
    vae_tiling: bool = field(
        default=False, metadata=_help("Encode videos with the VAE in tiles (less memory).")
    )
    log_pair_draws: bool = field(
        default=False,
        metadata=_help(
            "Write every drawn pair (step, rank, prompt, winner, loser, sigma) to "
            "pair_draws/rank-N.jsonl."
        ),
    )
    # -- evaluation during training (dsr.training.eval_callback) -------------------------------
    eval_steps: int | None = field(
        default=None,
        metadata=_help(
            "Every N optimizer steps: sample --eval-prompts test prompts x --eval-seeds with the "
            "current adapter, track and score them as build-videos does, and log eval/correct@0.7 "
            "and eval/dsr_score (unset: off)."
        ),
    )
    eval_prompts: int = field(
        default=12,
        metadata=_help(
            "Test prompts per evaluation (taken with the DSR types interleaved; the paper's test "
            "split has 120)."
        ),
    )
    eval_seeds: int = field(
        default=5, metadata=_help("Seeds 0..N-1 per evaluation prompt (the test protocol: 5).")
    )
    eval_dataset: str | None = field(
        default=None,
        metadata=_help(
            "Folder or Hub dataset repo id with the test prompts (a prompts config); "
            "default: --dataset."
        ),
    )
    eval_tracker: str = field(
        default="grounded-sam2",
        metadata=_help("Tracker of the evaluation samples (grounded-sam2, sam3)."),
    )
    eval_tracker_options: list[str] = field(
        default_factory=list,
        metadata=_help("Tracker option KEY=VALUE, e.g. detector=PATH or sam2=PATH."),
    )
    eval_generator_options: list[str] = field(
        default_factory=list,
        metadata=_help(
            "wan option KEY=VALUE for the evaluation samples (default: the training videos' "
            "settings), e.g. num_inference_steps=30."
        ),
    )
    # -- publishing ------------------------------------------------------------------------
    version: str | None = field(
        default=None,
        metadata=_help(
            "Tag of the pushed adapter, e.g. v1.0.0 (with hub_model_id / --push-to-hub)."
        ),
    )
    force: bool = field(
        default=False,
        metadata=_help("Move an existing --version tag of hub_model_id (never done otherwise)."),
    )
    overwrite_output_dir: bool = field(
        default=False,
        metadata=_help(
            "Start afresh in an output_dir that holds another run (default: resume the same run, "
            "refuse another)."
        ),
    )
    # -- TrainingArguments defaults changed to the paper's ---------------------------------
    learning_rate: float = field(
        default=1e-4, metadata=_help("Peak AdamW learning rate (paper: 1e-4).")
    )
    lr_scheduler_type: str = field(
        default="cosine", metadata=_help("Schedule after warm-up (paper: cosine).")
    )
    warmup_steps: float = field(
        default=300,
        metadata=_help(
            "Linear warm-up steps (paper: 300); optimizer step k uses k/300 of the rate (0 at the "
            "first step, as the authors' LambdaLR)."
        ),
    )
    cosine_horizon: int | None = field(
        default=3000,
        metadata=_help(
            "Step at which the cosine (lr_scheduler_type cosine) would reach 0: the authors' "
            "3000, run for 2400 steps, so the rate ends at 0.117 of its peak. Give the value of "
            "--max-steps for a cosine that reaches 0 at the last step (unset in Python: "
            "max_steps)."
        ),
    )
    max_steps: int = field(default=2400, metadata=_help("Optimizer steps (paper: 2400)."))
    weight_decay: float = field(
        default=0.01, metadata=_help("AdamW weight decay (the authors': torch's default 0.01).")
    )
    max_grad_norm: float = field(
        default=0.0,
        metadata=_help(
            "Clip the gradient norm to this value; 0: no clipping (the authors': Lightning's "
            "default)."
        ),
    )
    activation_checkpointing: bool | None = field(
        default=True,
        metadata=_help(
            "Recompute each transformer block's activations in the backward pass (diffusers' "
            "enable_gradient_checkpointing; the authors always turn it on): far less memory, "
            "about a third more compute."
        ),
    )
    per_device_train_batch_size: int = field(
        default=1, metadata=_help("Pairs per device per forward.")
    )
    effective_batch_size: int | None = field(
        default=48,
        metadata=_help(
            "Pairs per optimizer step over all devices (paper: 48); sets "
            "gradient_accumulation_steps = effective / (per_device_train_batch_size x devices). "
            "Unset: use gradient_accumulation_steps."
        ),
    )
    gradient_accumulation_steps: int | None = field(
        default=None,
        metadata=_help(
            "Micro-batches per optimizer step; default: derived from effective_batch_size."
        ),
    )
    bf16: bool | None = field(
        default=None, metadata=_help("bf16 autocast; default: on with a CUDA GPU that has it.")
    )
    logging_steps: float = field(default=10, metadata=_help("Log every N steps."))
    save_steps: float = field(
        default=200, metadata=_help("Checkpoint (adapter + optimizer state) every N steps.")
    )
    remove_unused_columns: bool = field(
        default=False,
        metadata=_help("Kept False: the batch keys are not the transformer's arguments."),
    )
    ddp_find_unused_parameters: bool | None = field(
        default=False,
        metadata=_help(
            "Every LoRA weight gets a gradient each step, so DDP needs no search for unused ones."
        ),
    )

    def __post_init__(self) -> None:
        self.validate_options()

    def validate_options(self) -> None:
        """Raise a ConfigError naming the field, its value and the allowed values."""
        self._apply_paper_exact()
        _choice("reg", self.reg, _REGULARIZERS)
        _choice("timestep_sampling", self.timestep_sampling, _TIMESTEP_SAMPLING)
        _choice("pair_forward", self.pair_forward, _PAIR_FORWARD)
        _choice("base_dtype", self.base_dtype, _DTYPES)
        _choice("cache_dtype", self.cache_dtype, _CACHE_DTYPES)
        _choice("timestep_dtype", self.timestep_dtype, _TIMESTEP_DTYPES)
        _positive("learning_rate", self.learning_rate)
        _positive("beta", self.beta)
        _positive("margin_clip", self.margin_clip)
        _positive("timestep_shift", self.timestep_shift)
        _positive("logit_std", self.logit_std)
        _positive("lora_alpha", self.lora_alpha)
        _at_least("lambda_zo", self.lambda_zo, 0)
        _at_least("lambda_sft", self.lambda_sft, 0)
        _at_least("lora_rank", self.lora_rank, 1)
        _at_least("num_train_timesteps", self.num_train_timesteps, 1)
        _at_least("eval_prompts", self.eval_prompts, 1)
        _at_least("eval_seeds", self.eval_seeds, 1)
        if self.eval_steps is not None:
            _at_least("eval_steps", self.eval_steps, 1)
        if not 0.0 <= self.lora_dropout < 1.0:
            raise ConfigError(f"lora_dropout={self.lora_dropout}: must lie in [0, 1)")
        if self.tau_train is not None and not 0.0 <= self.tau_train <= 1.0:
            raise ConfigError(
                f"tau_train={self.tau_train}: must lie in [0, 1] (the paper uses 0.7)"
            )
        if not self.lora_target_modules:
            raise ConfigError(
                "lora_target_modules is empty: name at least one module, e.g. blocks.*.attn2.to_k"
            )
        self._validate_sizes()
        self._validate_batch()
        if self.version is not None and not _VERSION.fullmatch(self.version):
            raise ConfigError(
                f"version={self.version!r} is not a release tag: use "
                "vMAJOR.MINOR.PATCH, e.g. v1.0.0"
            )

    def _apply_paper_exact(self) -> None:
        """With ``paper_exact``, the authors' values (``dsr.paper_exact``) in place of our
        defaults; a field given a third value is refused."""
        if not self.paper_exact:
            return
        defaults = {f.name: f.default for f in fields(SpatialAlignOptions)}
        for name, theirs in PAPER_EXACT[("training", "spatialalign")].items():
            value = getattr(self, name)
            if value not in (theirs, defaults[name]):
                raise ConfigError(
                    f"--paper-exact sets {name}={theirs!r}, but {name}={value!r} was given: drop "
                    "--paper-exact or that option"
                )
            setattr(self, name, theirs)

    def _validate_sizes(self) -> None:
        if self.train_num_frames is not None and (
            self.train_num_frames < 1 or (self.train_num_frames - 1) % 4
        ):
            raise ConfigError(
                f"train_num_frames={self.train_num_frames}: Wan needs 4k+1 frames, "
                "e.g. 81, 49 or 17"
            )
        for name in ("train_height", "train_width"):
            value = getattr(self, name)
            if value is not None and (value < 16 or value % 16):
                raise ConfigError(
                    f"{name}={value}: must be a positive multiple of 16, e.g. 480 or 832"
                )
        if (self.train_height is None) != (self.train_width is None):
            raise ConfigError(
                "give train_height and train_width together (or neither, to keep the stored size)"
            )
        if self.max_sequence_length is not None:
            _at_least("max_sequence_length", self.max_sequence_length, 1)

    def _validate_batch(self) -> None:
        _at_least("per_device_train_batch_size", self.per_device_train_batch_size, 1)
        if self.effective_batch_size is not None:
            _at_least("effective_batch_size", self.effective_batch_size, 1)
        if self.gradient_accumulation_steps is not None:
            _at_least("gradient_accumulation_steps", self.gradient_accumulation_steps, 1)
        if self.max_steps < 1:  # TrainingArguments' -1 (train by epochs) does not apply here
            raise ConfigError(
                f"max_steps={self.max_steps}: give a positive number of optimizer steps"
            )
        self._validate_schedule()

    def _validate_schedule(self) -> None:
        if self.cosine_horizon is None:
            return
        if self.cosine_horizon <= self.warmup_steps:
            raise ConfigError(
                f"cosine_horizon={self.cosine_horizon} is not past warmup_steps="
                f"{self.warmup_steps:g}: give a horizon > the warm-up (the authors': 3000)"
            )
        if 0 < self.cosine_horizon < self.max_steps:
            raise ConfigError(
                f"max_steps={self.max_steps} runs past cosine_horizon={self.cosine_horizon}, "
                "where the rate reaches 0 and would rise again: give --cosine-horizon >= "
                "--max-steps"
            )


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name}={value!r}: choose one of {', '.join(allowed)}")


def _positive(name: str, value: float) -> None:
    if not 0 < value < math.inf:  # NaN too
        raise ConfigError(f"{name}={value}: must be > 0 and finite")


def _at_least(name: str, value: float, low: float) -> None:
    if value < low:
        raise ConfigError(f"{name}={value}: must be >= {low}")
