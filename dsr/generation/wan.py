"""The ``wan`` generator: diffusers' ``WanPipeline`` (Wan2.1-T2V) from a Hub id or a local folder.

Defaults follow docs/method.md §2 (81 frames, 480×832, 16 fps, 50 steps, guidance 5.0, Wan's
standard negative prompt) and the authors' sampler: DiffSynth's flow-matching Euler with shift 5.0
on DiffSynth's sigma grid (:mod:`dsr.generation.schedulers`). ``sampler="unipc"`` gives diffusers'
example instead (UniPC, flow_shift 3.0 for 480p unless given). Builds recorded with the old default
(UniPC) keep it when resumed (:func:`dsr.builders.videos.keep_recorded_defaults`).

``timestep_dtype="bfloat16"`` (set by ``--paper-exact``) conditions the transformer on each
sampling timestep rounded to bf16, as DiffSynth's pipeline does, while the Euler steps keep the
float32 sigmas (:class:`dsr.generation.schedulers.DiffSynthEulerScheduler`).

``lora`` applies a LoRA adapter (a folder, or a Hub repo id with an optional ``@revision``) with
``load_lora_weights`` at ``lora_scale``; the settings record its source, revision and the SHA-256 of
its weights, so a resumed build refuses another adapter like any other changed setting.

Each sample gets its own CPU ``torch.Generator``
seeded with its seed, so a batch of seeds of one prompt (a list of generators) starts from the same
noise as one seed at a time. Batched matmuls may still round differently (pixels 1 level apart), so
every sample records the batch it was made in (``batch_size``, ``batch_seeds``, its
``batch_index``): seed + settings reproduce it exactly.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dsr.errors import ConfigError
from dsr.generation.adapters import AdapterSource, parse_adapter_source
from dsr.generation.base import GeneratedVideo
from dsr.limits import MAX_STEPS, check_max, check_video_size
from dsr.model_loading import hub_model
from dsr.prompts import DSRPrompt

__all__ = [
    "DEFAULT_MODEL",
    "SAMPLER_SHIFT",
    "WAN_NEGATIVE_PROMPT",
    "WanConfig",
    "WanGenerator",
    "cpu_seconds_per_video",
    "sampling_flops",
]

log = logging.getLogger(__name__)

DEFAULT_MODEL = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
#: The flow shift each sampler takes when none is given.
SAMPLER_SHIFT = {"euler": 5.0, "unipc": 3.0}
#: The English negative prompt of the usage example in diffusers' ``pipeline_wan.py``.
WAN_NEGATIVE_PROMPT = (
    "Bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, "
    "images, static, overall gray, worst quality, low quality, JPEG compression residue, ugly, "
    "incomplete, extra fingers, poorly drawn hands, poorly drawn faces, deformed, disfigured, "
    "misshapen limbs, fused fingers, still picture, messy background, three legs, many people in "
    "the background, walking backwards"
)


@dataclass(frozen=True)
class WanConfig:
    """Settings of the ``wan`` generator (docs/method.md §2 defaults)."""

    model: str = field(
        default=DEFAULT_MODEL,
        metadata={"help": "Hub id or local folder of a diffusers Wan T2V pipeline"},
    )
    num_frames: int = field(default=81, metadata={"help": "frames per video (4k+1)"})
    height: int = field(default=480, metadata={"help": "frame height (multiple of 16)"})
    width: int = field(default=832, metadata={"help": "frame width (multiple of 16)"})
    fps: int = field(default=16, metadata={"help": "frames per second of the stored video"})
    num_inference_steps: int = field(default=50, metadata={"help": "sampling steps"})
    guidance_scale: float = field(default=5.0, metadata={"help": "classifier-free guidance scale"})
    negative_prompt: str = field(default=WAN_NEGATIVE_PROMPT, metadata={"help": "negative prompt"})
    flow_shift: float | None = field(
        default=None,
        metadata={
            "help": (
                "sigma shift of the sampler; default: the sampler's (euler: 5.0, the authors'; "
                "unipc: 3.0, diffusers' 480p example)"
            )
        },
    )
    sampler: str = field(
        default="euler",
        metadata={
            "help": (
                "euler (the authors': DiffSynth's flow-matching Euler and sigma grid) or unipc "
                "(diffusers' Wan example)"
            ),
            "choices": ["euler", "unipc"],
        },
    )
    timestep_dtype: str = field(
        default="float32",
        metadata={
            "help": "precision of the timestep the transformer is conditioned on: float32, or "
            "bfloat16 as the authors' DiffSynth pipeline (euler only; set by --paper-exact)"
        },
    )
    lora: str | None = field(
        default=None,
        metadata={
            "help": (
                "LoRA adapter to apply: a folder, or a Hub repo id with an optional @revision "
                "(e.g. you/wan-spatialalign@v1.0.0)"
            )
        },
    )
    lora_scale: float = field(
        default=1.0, metadata={"help": "strength of the LoRA adapter (1.0: as trained)"}
    )
    dtype: str = field(
        default="auto",
        metadata={"help": "auto (bf16 on CUDA, fp32 on CPU), bfloat16, float16 or float32"},
    )
    device: str | None = field(
        default=None,
        metadata={"help": "torch device (default cuda:<LOCAL_RANK> if available, else cpu)"},
    )
    device_index: int | None = field(
        default=None, metadata={"help": "CUDA device index (set from LOCAL_RANK by build-videos)"}
    )
    cpu_offload: bool = field(
        default=False, metadata={"help": "enable_model_cpu_offload (small GPUs)"}
    )
    vae_tiling: bool = field(
        default=False, metadata={"help": "decode the VAE in tiles (less memory)"}
    )
    vae_slicing: bool = field(
        default=False, metadata={"help": "decode the VAE one video at a time"}
    )
    max_sequence_length: int = field(
        default=512, metadata={"help": "text tokens given to the encoder"}
    )
    prompt_field: str = field(
        default="prompt", metadata={"help": "prompt text to use: prompt (canonical) or from_to"}
    )

    def __post_init__(self) -> None:
        if (self.num_frames - 1) % 4 or self.height % 16 or self.width % 16:
            raise ConfigError(
                "Wan needs num_frames = 4k+1 and height/width multiples of 16, got "
                f"{self.num_frames} frames of {self.height}×{self.width}: e.g. 81 frames of 480×832"
            )
        check_video_size(self.num_frames, self.height, self.width, "WanConfig")
        check_max(
            "WanConfig.num_inference_steps",
            self.num_inference_steps,
            MAX_STEPS,
            "the paper uses 50",
        )
        if self.dtype not in ("auto", "bfloat16", "float16", "float32"):
            raise ConfigError(f"dtype={self.dtype!r}: choose auto, bfloat16, float16 or float32")
        if self.sampler not in ("unipc", "euler"):
            raise ConfigError(
                f"sampler={self.sampler!r}: choose unipc (diffusers' example) or euler "
                "(the authors')"
            )
        if self.timestep_dtype not in ("float32", "bfloat16"):
            raise ConfigError(f"timestep_dtype={self.timestep_dtype!r}: choose float32 or bfloat16")
        if self.timestep_dtype == "bfloat16" and self.sampler != "euler":
            raise ConfigError(
                "timestep_dtype=bfloat16 is the authors' Euler sampling: give sampler=euler "
                "(or timestep_dtype=float32)"
            )
        shift = SAMPLER_SHIFT[self.sampler] if self.flow_shift is None else self.flow_shift
        object.__setattr__(self, "flow_shift", shift)
        if not shift > 0:
            raise ConfigError(f"flow_shift={shift}: must be > 0 (the authors use 5.0)")
        if self.lora is not None:
            parse_adapter_source(self.lora)
        if self.prompt_field not in ("prompt", "from_to"):
            raise ConfigError(f"prompt_field={self.prompt_field!r}: choose prompt or from_to")


#: Wan2.1-T2V-1.3B's transformer: assumed when the model's own config cannot be read offline.
WAN_1_3B = {
    "num_layers": 30,
    "num_attention_heads": 12,
    "attention_head_dim": 128,
    "ffn_dim": 8960,
    "patch_size": [1, 2, 2],
}


def sampling_flops(config: WanConfig, arch: Mapping[str, Any] = WAN_1_3B) -> float:
    """Floating-point operations (2 per multiply-add) of the transformer over one video's sampling:
    per block the self-attention (projections, scores and weighted sum over all latent tokens), the
    cross-attention to the text tokens and the feed-forward layer; one forward per step, two with
    classifier-free guidance. The VAE and the text encoder (run once) are left out."""
    pt, ph, pw = arch["patch_size"]
    frames = ((config.num_frames - 1) // 4 + 1) // pt  # the VAE: 4x in time, 8x in space
    tokens = frames * (config.height // 8 // ph) * (config.width // 8 // pw)
    d = arch["num_attention_heads"] * arch["attention_head_dim"]
    text = config.max_sequence_length
    per_block = (
        4 * d * d * tokens
        + 2 * tokens * tokens * d
        + 2 * d * d * (tokens + text)
        + 2 * tokens * text * d
        + 2 * d * arch["ffn_dim"] * tokens
    )
    forwards = config.num_inference_steps * (2 if config.guidance_scale > 1 else 1)
    return 2.0 * per_block * arch["num_layers"] * forwards


def _architecture(model: str) -> Mapping[str, Any]:
    """The transformer config of ``model`` when it can be read without the network, else the
    1.3B model's."""
    path: Any = Path(model).expanduser() / "transformer" / "config.json"
    if not path.is_file():
        from huggingface_hub import try_to_load_from_cache
        from huggingface_hub.errors import HFValidationError

        try:
            path = try_to_load_from_cache(model, "transformer/config.json")
        except HFValidationError:  # neither a folder nor a Hub id: the load will say so
            return WAN_1_3B
    if not isinstance(path, (str, Path)):
        return WAN_1_3B
    config = json.loads(Path(path).read_text(encoding="utf-8"))
    return {key: config.get(key, default) for key, default in WAN_1_3B.items()}


def _cpu_flops_per_second(seconds: float = 0.2) -> float:
    """This CPU's float32 matrix-multiply speed, measured for ``seconds``."""
    import torch

    a, b = torch.randn(512, 512), torch.randn(512, 512)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return 2.0 * 512**3 * count / (time.perf_counter() - start)


def cpu_seconds_per_video(config: WanConfig) -> float:
    """A lower bound of the seconds one video takes on this CPU: the transformer's operations at
    the speed of a plain matrix multiply."""
    return sampling_flops(config, _architecture(config.model)) / _cpu_flops_per_second()


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


class WanGenerator:
    """Seeded text-to-video sampling with a diffusers Wan pipeline (loaded on first use)."""

    name = "wan"
    config_class = WanConfig

    def __init__(
        self, config: WanConfig | None = None, *, transformer: Any = None, **options: Any
    ) -> None:
        """``transformer`` replaces the checkpoint's (e.g. the one being trained, for evaluations
        during training); the other components load from ``model``."""
        self.config = config or WanConfig(**options)
        self.transformer = transformer
        self._pipe: Any = None
        self._adapter: AdapterSource | None = None

    def settings(self) -> dict[str, Any]:
        out = asdict(self.config)
        out.pop("device_index")
        out.pop("device")
        out["generator"] = self.name
        out["resolved_dtype"] = self._dtype_name()
        out.update(self._adapter_settings())
        return out

    def _adapter_settings(self) -> dict[str, Any]:
        """The adapter's revision, commit and weights hash (resolved, and fetched, on first use)."""
        adapter = self._resolved_adapter()
        return adapter.settings() if adapter else {}

    def _resolved_adapter(self) -> AdapterSource | None:
        if self.config.lora is not None and self._adapter is None:
            self._adapter = parse_adapter_source(self.config.lora).resolve()
        return self._adapter

    def _device(self) -> str:
        import torch

        if self.config.device:
            return self.config.device
        if torch.cuda.is_available():
            return f"cuda:{self.config.device_index or 0}"
        return "cpu"

    def _dtype_name(self) -> str:
        if self.config.dtype != "auto":
            return self.config.dtype
        return "bfloat16" if self._device().startswith("cuda") else "float32"

    @property
    def pipeline(self) -> Any:
        """The loaded ``WanPipeline`` (loads it on first access)."""
        if self._pipe is None:
            self._pipe = self._load()
        return self._pipe

    def _load(self) -> Any:
        import torch
        from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline

        cfg = self.config
        if self._device() == "cpu":
            self._warn_cpu()
        dtype = getattr(torch, self._dtype_name())
        log.info("loading Wan pipeline %s (%s) on %s", cfg.model, dtype, self._device())
        # The VAE is loaded and run in fp32, as in diffusers' Wan example: loading it in bf16 first
        # and casting back would keep the bf16-rounded weights.
        offline = "run with --generator synthetic (no model)"
        with hub_model("Wan pipeline", cfg.model, "--generator-opt model=PATH", offline) as local:
            vae = AutoencoderKLWan.from_pretrained(
                cfg.model, subfolder="vae", dtype=torch.float32, local_files_only=local
            )
            given = {"transformer": self.transformer} if self.transformer is not None else {}
            pipe = WanPipeline.from_pretrained(
                cfg.model, vae=vae, dtype=dtype, local_files_only=local, **given
            )
        self.transformer = pipe.transformer
        if cfg.sampler == "euler":
            from dsr.generation.schedulers import DiffSynthEulerScheduler

            pipe.scheduler = DiffSynthEulerScheduler(shift=cfg.flow_shift)
            pipe.scheduler.bf16_timesteps = cfg.timestep_dtype == "bfloat16"
        elif cfg.flow_shift is not None:
            pipe.scheduler = UniPCMultistepScheduler.from_config(
                pipe.scheduler.config, flow_shift=cfg.flow_shift
            )
        adapter = self._resolved_adapter()
        if adapter is not None:
            adapter.load_into(pipe, cfg.lora_scale)
        if cfg.vae_tiling:
            pipe.vae.enable_tiling()
        if cfg.vae_slicing:
            pipe.vae.enable_slicing()
        if cfg.cpu_offload:
            pipe.enable_model_cpu_offload(device=self._device())
        else:
            pipe.to(self._device())
        pipe.set_progress_bar_config(disable=True)
        return pipe

    def _warn_cpu(self) -> None:
        """Say how long a video will take before sampling on the CPU for hours."""
        cfg = self.config
        seconds = cpu_seconds_per_video(cfg)
        if seconds < 60:
            return
        log.warning(
            "no CUDA GPU: the wan generator runs on the CPU, at least %s per video here (%d "
            "frames of %dx%d, %d steps): use a machine with a GPU, or --generator synthetic to "
            "try the pipeline",
            _duration(seconds),
            cfg.num_frames,
            cfg.height,
            cfg.width,
            cfg.num_inference_steps,
        )

    def _text(self, prompt: DSRPrompt) -> str:
        return prompt.render_from_to() if self.config.prompt_field == "from_to" else prompt.render()

    def generate(self, prompt: DSRPrompt, seeds: Sequence[int]) -> list[GeneratedVideo]:
        """One video per seed; all seeds of the call run as one batch."""
        import torch

        cfg = self.config
        seeds = [int(s) for s in seeds]
        generators = [torch.Generator("cpu").manual_seed(s) for s in seeds]
        with torch.inference_mode():
            out = self.pipeline(
                prompt=self._text(prompt),
                negative_prompt=cfg.negative_prompt,
                height=cfg.height,
                width=cfg.width,
                num_frames=cfg.num_frames,
                num_inference_steps=cfg.num_inference_steps,
                guidance_scale=cfg.guidance_scale,
                num_videos_per_prompt=len(seeds),
                generator=generators,
                output_type="np",
                max_sequence_length=cfg.max_sequence_length,
            )
        videos = np.asarray(out.frames)
        settings = {
            **self.settings(),
            "prompt_text": self._text(prompt),
            "batch_size": len(seeds),
            "batch_seeds": seeds,
        }
        return [
            GeneratedVideo(
                frames=_to_uint8(v), fps=cfg.fps, seed=s, settings={**settings, "batch_index": i}
            )
            for i, (s, v) in enumerate(zip(seeds, videos, strict=True))
        ]


def _to_uint8(video: np.ndarray) -> np.ndarray:
    """Float frames in [0, 1] (T, H, W, 3) → uint8."""
    return (np.clip(np.asarray(video, dtype=np.float32), 0.0, 1.0) * 255.0).round().astype(np.uint8)
