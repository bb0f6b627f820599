"""The ``cogvideox``, ``ltx`` and ``hunyuanvideo15`` generators: the other diffusers text-to-video
models of the paper's Table 2 (docs/method.md §2), each with its model's published defaults.

Every default is overridable with ``--generator-opt KEY=VALUE`` and recorded in each sample's
settings. Loading, LoRA adapters, seeding and batching are shared with ``wan``
(:mod:`dsr.generation.diffusers_video`). Where the defaults come from:

- CogVideoX1.5-5B: its model card (zai-org/CogVideoX1.5-5B: 1360×768, 16N+1 frames with 81 the
  default, 16 fps) and diffusers' CogVideoX usage (50 steps, guidance 6.0, no negative prompt, 226
  text tokens). CogVideoX-2B's card gives 720×480, 49 frames, 8 fps: pass those with
  ``--generator-opt model=zai-org/CogVideoX-2b num_frames=49 height=480 width=720 fps=8``.
- LTX-Video (2B): diffusers' LTX-Video usage and the model card's diffusers example (704×480, 161
  frames, 50 steps, exported at 24 fps, negative prompt "worst quality, inconsistent motion,
  blurry, jittery, distorted"); guidance 3.0 and 128 text tokens are ``LTXPipeline``'s defaults.
- HunyuanVideo 1.5 (8.3B, 480p T2V): ``HunyuanVideo15Pipeline``'s defaults (121 frames, 50 steps,
  480×848 from its 480p target size and 16:9 aspect, 1000 prompt tokens), the checkpoint's guider
  (guidance 6.0, diffusers' HunyuanVideo-1.5 page) and scheduler shift; 24 fps as Tencent's
  release; no negative prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from dsr.errors import ConfigError
from dsr.generation.diffusers_video import DiffusersVideoGenerator, VideoPipelineConfig, published

__all__ = [
    "CogVideoXConfig",
    "CogVideoXGenerator",
    "HunyuanVideo15Config",
    "HunyuanVideo15Generator",
    "LTX_NEGATIVE_PROMPT",
    "LTXConfig",
    "LTXGenerator",
]

#: The negative prompt of LTX-Video's diffusers example.
LTX_NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted"


@dataclass(frozen=True)
class CogVideoXConfig(VideoPipelineConfig):
    """Settings of the ``cogvideox`` generator (CogVideoX1.5-5B's published defaults)."""

    label: ClassVar[str] = "CogVideoX"

    model: str = published(
        "model",
        "zai-org/CogVideoX1.5-5B",
        "Hub id or local folder of a diffusers CogVideoX T2V pipeline (1.5-5B, 5B or 2B)",
    )
    num_frames: int = published(
        "num_frames", 81, "frames per video (4k+1; CogVideoX1.5: 16k+1, CogVideoX 2B/5B: 8k+1)"
    )
    height: int = published("height", 768, "frame height (multiple of 16)")
    width: int = published("width", 1360, "frame width (multiple of 16)")
    fps: int = published("fps", 16, "frames per second of the stored video (CogVideoX 2B/5B: 8)")
    num_inference_steps: int = published("num_inference_steps", 50)
    guidance_scale: float = published("guidance_scale", 6.0)
    negative_prompt: str = published("negative_prompt", "")
    max_sequence_length: int = published(
        "max_sequence_length", 226, "text tokens (the transformer's max_text_seq_length: 226)"
    )
    use_dynamic_cfg: bool = field(
        default=False,
        metadata={"help": "CogVideoX's cosine-scheduled guidance (its CLI demo turns it on)"},
    )


class CogVideoXGenerator(DiffusersVideoGenerator):
    """Seeded text-to-video sampling with diffusers' ``CogVideoXPipeline``."""

    name = "cogvideox"
    config_class = CogVideoXConfig
    pipeline_class = "CogVideoXPipeline"
    config: CogVideoXConfig

    def _call_kwargs(self) -> dict[str, Any]:
        return {**super()._call_kwargs(), "use_dynamic_cfg": self.config.use_dynamic_cfg}


@dataclass(frozen=True)
class LTXConfig(VideoPipelineConfig):
    """Settings of the ``ltx`` generator (LTX-Video's published defaults)."""

    label: ClassVar[str] = "LTX-Video"
    frame_step: ClassVar[int] = 8
    size_multiple: ClassVar[int] = 32

    model: str = published(
        "model", "Lightricks/LTX-Video", "Hub id or local folder of a diffusers LTX-Video pipeline"
    )
    num_frames: int = published("num_frames", 161, "frames per video (8k+1)")
    height: int = published("height", 480, "frame height (multiple of 32)")
    width: int = published("width", 704, "frame width (multiple of 32)")
    fps: int = published(
        "fps", 24, "frames per second of the stored video (also the frame rate LTX conditions on)"
    )
    num_inference_steps: int = published("num_inference_steps", 50)
    guidance_scale: float = published("guidance_scale", 3.0)
    negative_prompt: str = published("negative_prompt", LTX_NEGATIVE_PROMPT)
    max_sequence_length: int = published("max_sequence_length", 128)
    decode_timestep: float = field(
        default=0.0,
        metadata={"help": "timestep the VAE decodes at (0.03 for LTX-Video 0.9.1 and later)"},
    )
    decode_noise_scale: float | None = field(
        default=None,
        metadata={"help": "noise mixed in before decoding (0.025 for LTX-Video 0.9.1 and later)"},
    )


class LTXGenerator(DiffusersVideoGenerator):
    """Seeded text-to-video sampling with diffusers' ``LTXPipeline``."""

    name = "ltx"
    config_class = LTXConfig
    pipeline_class = "LTXPipeline"
    config: LTXConfig

    def _call_kwargs(self) -> dict[str, Any]:
        cfg = self.config
        return {
            **super()._call_kwargs(),
            "frame_rate": cfg.fps,
            "decode_timestep": cfg.decode_timestep,
            "decode_noise_scale": cfg.decode_noise_scale,
        }


@dataclass(frozen=True)
class HunyuanVideo15Config(VideoPipelineConfig):
    """Settings of the ``hunyuanvideo15`` generator (HunyuanVideo-1.5 480p T2V defaults)."""

    label: ClassVar[str] = "HunyuanVideo 1.5"

    model: str = published(
        "model",
        "hunyuanvideo-community/HunyuanVideo-1.5-480p_t2v",
        "Hub id or local folder of a diffusers HunyuanVideo 1.5 T2V pipeline",
    )
    num_frames: int = published("num_frames", 121, "frames per video (4k+1)")
    height: int = published("height", 480, "frame height (multiple of 16)")
    width: int = published("width", 848, "frame width (multiple of 16)")
    fps: int = published("fps", 24)
    num_inference_steps: int = published("num_inference_steps", 50)
    guidance_scale: float = published(
        "guidance_scale", 6.0, "classifier-free guidance scale (set on the pipeline's guider)"
    )
    negative_prompt: str = published("negative_prompt", "")
    max_sequence_length: int = published(
        "max_sequence_length", 1000, "prompt tokens given to the Qwen2.5-VL text encoder"
    )
    flow_shift: float | None = field(
        default=None,
        metadata={"help": "sigma shift of the flow-matching sampler (default: the checkpoint's)"},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.flow_shift is not None and not self.flow_shift > 0:
            raise ConfigError(f"flow_shift={self.flow_shift}: must be > 0 (or leave it unset)")


class HunyuanVideo15Generator(DiffusersVideoGenerator):
    """Seeded text-to-video sampling with diffusers' ``HunyuanVideo15Pipeline``."""

    name = "hunyuanvideo15"
    config_class = HunyuanVideo15Config
    pipeline_class = "HunyuanVideo15Pipeline"
    config: HunyuanVideo15Config

    def _configure(self, pipe: Any) -> None:
        """The guidance goes to the pipeline's guider (its ``__call__`` takes none); the VAE
        decodes one video at a time, since diffusers 0.42's HunyuanVideo 1.5 VAE attention fails on
        batches of more than one."""
        cfg = self.config
        pipe.guider = pipe.guider.new(guidance_scale=cfg.guidance_scale)
        pipe.tokenizer_max_length = cfg.max_sequence_length
        if cfg.flow_shift is not None:
            pipe.scheduler = type(pipe.scheduler).from_config(
                pipe.scheduler.config, shift=cfg.flow_shift
            )
        pipe.vae.enable_slicing()

    def _call_kwargs(self) -> dict[str, Any]:
        return {}
