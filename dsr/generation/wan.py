"""The ``wan`` generator: diffusers' ``WanPipeline`` (Wan2.1-T2V) from a Hub id or a local folder.

Defaults follow docs/method.md §2 (81 frames, 480×832, 16 fps, 50 steps, guidance 5.0, Wan's
standard negative prompt) and the authors' sampler: DiffSynth's flow-matching Euler with shift 5.0
on DiffSynth's sigma grid (:mod:`dsr.generation.schedulers`). ``sampler="unipc"`` gives diffusers'
example instead (UniPC, flow_shift 3.0 for 480p unless given). Builds recorded with the old default
(UniPC) keep it when resumed (:func:`dsr.builders.videos.keep_recorded_defaults`).

``timestep_dtype="bfloat16"`` (set by ``--paper-exact``) conditions the transformer on each
sampling timestep rounded to bf16, as DiffSynth's pipeline does, while the Euler steps keep the
float32 sigmas (:class:`dsr.generation.schedulers.DiffSynthEulerScheduler`).

Loading, the LoRA adapter, seeding and batching are shared with the other diffusers generators
(:mod:`dsr.generation.diffusers_video`).

``lora`` applies a LoRA adapter (a folder, or a Hub repo id with an optional ``@revision``) with
``load_lora_weights`` at ``lora_scale``; the settings record its source, revision and the SHA-256 of
its weights, so a resumed build refuses another adapter like any other changed setting.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from dsr.errors import ConfigError
from dsr.generation.diffusers_video import DiffusersVideoGenerator, VideoPipelineConfig, published

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
class WanConfig(VideoPipelineConfig):
    """Settings of the ``wan`` generator (docs/method.md §2 defaults)."""

    label: ClassVar[str] = "Wan"

    model: str = published(
        "model", DEFAULT_MODEL, "Hub id or local folder of a diffusers Wan T2V pipeline"
    )
    num_frames: int = published("num_frames", 81, "frames per video (4k+1)")
    height: int = published("height", 480, "frame height (multiple of 16)")
    width: int = published("width", 832, "frame width (multiple of 16)")
    fps: int = published("fps", 16)
    num_inference_steps: int = published("num_inference_steps", 50)
    guidance_scale: float = published("guidance_scale", 5.0)
    negative_prompt: str = published("negative_prompt", WAN_NEGATIVE_PROMPT)
    max_sequence_length: int = published("max_sequence_length", 512)
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

    def __post_init__(self) -> None:
        super().__post_init__()
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


class WanGenerator(DiffusersVideoGenerator):
    """Seeded text-to-video sampling with a diffusers Wan pipeline (loaded on first use)."""

    name = "wan"
    config_class = WanConfig
    pipeline_class = "WanPipeline"
    config: WanConfig

    def _components(self, local: bool) -> dict[str, Any]:
        # The VAE is loaded and run in fp32, as in diffusers' Wan example: loading it in bf16 first
        # and casting back would keep the bf16-rounded weights.
        import torch
        from diffusers import AutoencoderKLWan

        vae = AutoencoderKLWan.from_pretrained(
            self.config.model, subfolder="vae", dtype=torch.float32, local_files_only=local
        )
        return {"vae": vae}

    def _configure(self, pipe: Any) -> None:
        from diffusers import UniPCMultistepScheduler

        cfg = self.config
        if cfg.sampler == "euler":
            from dsr.generation.schedulers import DiffSynthEulerScheduler

            pipe.scheduler = DiffSynthEulerScheduler(shift=cfg.flow_shift)
            pipe.scheduler.bf16_timesteps = cfg.timestep_dtype == "bfloat16"
        elif cfg.flow_shift is not None:
            pipe.scheduler = UniPCMultistepScheduler.from_config(
                pipe.scheduler.config, flow_shift=cfg.flow_shift
            )

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

    def _warn_cpu_size(self, pipe: Any) -> None:
        """Already estimated from the settings by :meth:`_warn_cpu`, before loading."""

    def _batch_kwargs(self, text: str, count: int) -> dict[str, Any]:
        return {
            "prompt": text,
            "negative_prompt": self.config.negative_prompt,
            "num_videos_per_prompt": count,
        }
