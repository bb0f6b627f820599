"""What every diffusers text-to-video generator shares (``wan``, ``cogvideox``, ``ltx``,
``hunyuanvideo15``): the settings common to all, loading the pipeline from a Hub id or a folder,
the LoRA adapter, seeded and batched sampling, and the settings each sample records.

A family subclasses :class:`VideoPipelineConfig` with its model's published defaults (declared with
:func:`published`, which keeps the shared help text) and :class:`DiffusersVideoGenerator` with the
pipeline class and the few hooks where it differs (extra components, scheduler or guider set-up,
extra call arguments).

Each sample gets its own CPU ``torch.Generator`` seeded with its seed, so a batch of seeds of one
prompt (a list of generators) starts from the same noise as one seed at a time. Batched matmuls may
still round differently (pixels 1 level apart), so every sample records the batch it was made in
(``batch_size``, ``batch_seeds``, its ``batch_index``): seed + settings reproduce it exactly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from dsr.errors import ConfigError
from dsr.generation.adapters import AdapterSource, parse_adapter_source
from dsr.generation.base import GeneratedVideo
from dsr.limits import MAX_STEPS, check_max, check_video_size
from dsr.model_loading import hub_model
from dsr.prompts import DSRPrompt

__all__ = ["DiffusersVideoGenerator", "VideoPipelineConfig", "published"]

log = logging.getLogger(__name__)

#: Transformers larger than this get a warning before they sample on the CPU.
CPU_WARN_PARAMETERS = 100_000_000


@dataclass(frozen=True)
class VideoPipelineConfig:
    """Settings every diffusers text-to-video generator takes (each family sets the defaults)."""

    #: The family's name in messages, the frame count's step (frames = step·k + 1) and the multiple
    #: that frame sizes must be (VAE compression × transformer patch).
    label: ClassVar[str] = "video"
    frame_step: ClassVar[int] = 4
    size_multiple: ClassVar[int] = 16

    model: str = field(
        default="", metadata={"help": "Hub id or local folder of the diffusers pipeline"}
    )
    num_frames: int = field(default=81, metadata={"help": "frames per video"})
    height: int = field(default=480, metadata={"help": "frame height"})
    width: int = field(default=832, metadata={"help": "frame width"})
    fps: int = field(default=16, metadata={"help": "frames per second of the stored video"})
    num_inference_steps: int = field(default=50, metadata={"help": "sampling steps"})
    guidance_scale: float = field(default=5.0, metadata={"help": "classifier-free guidance scale"})
    negative_prompt: str = field(default="", metadata={"help": "negative prompt"})
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
        step, multiple = self.frame_step, self.size_multiple
        if (self.num_frames - 1) % step or self.height % multiple or self.width % multiple:
            default = {f.name: f.default for f in fields(self)}
            raise ConfigError(
                f"{self.label} needs num_frames = {step}k+1 and height/width multiples of "
                f"{multiple}, got {self.num_frames} frames of {self.height}×{self.width}: e.g. "
                f"{default['num_frames']} frames of {default['height']}×{default['width']}"
            )
        name = type(self).__name__
        check_video_size(self.num_frames, self.height, self.width, name)
        steps = self.num_inference_steps
        check_max(f"{name}.num_inference_steps", steps, MAX_STEPS, "the paper uses 50")
        if self.dtype not in ("auto", "bfloat16", "float16", "float32"):
            raise ConfigError(f"dtype={self.dtype!r}: choose auto, bfloat16, float16 or float32")
        if self.lora is not None:
            parse_adapter_source(self.lora)
        if self.prompt_field not in ("prompt", "from_to"):
            raise ConfigError(f"prompt_field={self.prompt_field!r}: choose prompt or from_to")


def published(name: str, value: Any, help: str | None = None) -> Any:
    """A field of :class:`VideoPipelineConfig` with a family's default ``value`` (and, if given, a
    more precise help text)."""
    metadata = dict(VideoPipelineConfig.__dataclass_fields__[name].metadata)
    if help is not None:
        metadata["help"] = help
    return field(default=value, metadata=metadata)


def checkpoint_class(model: str) -> str | None:
    """The pipeline class a checkpoint's ``model_index.json`` names, when it can be read without
    the network (a folder, or a Hub id already in the cache)."""
    path: Any = Path(model).expanduser() / "model_index.json"
    if not path.is_file():
        from huggingface_hub import try_to_load_from_cache
        from huggingface_hub.errors import HFValidationError

        try:
            path = try_to_load_from_cache(model, "model_index.json")
        except HFValidationError:  # neither a folder nor a Hub id: the load will say so
            return None
    if not isinstance(path, (str, Path)):
        return None
    name = json.loads(Path(path).read_text(encoding="utf-8")).get("_class_name")
    return name if isinstance(name, str) else None


class DiffusersVideoGenerator:
    """Seeded text-to-video sampling with a diffusers pipeline (loaded on first use)."""

    name: ClassVar[str] = ""
    config_class: ClassVar[type[VideoPipelineConfig]] = VideoPipelineConfig
    #: The diffusers pipeline class (by name: diffusers is imported only when loading).
    pipeline_class: ClassVar[str] = ""

    def __init__(
        self, config: VideoPipelineConfig | None = None, *, transformer: Any = None, **options: Any
    ) -> None:
        """``transformer`` replaces the checkpoint's (e.g. the one being trained, for evaluations
        during training); the other components load from ``model``."""
        self.config: Any = config or self.config_class(**options)
        self.transformer = transformer
        self._pipe: Any = None
        self._adapter: AdapterSource | None = None

    @property
    def label(self) -> str:
        return self.config_class.label

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
            return str(self.config.device)
        if torch.cuda.is_available():
            return f"cuda:{self.config.device_index or 0}"
        return "cpu"

    def _dtype_name(self) -> str:
        if self.config.dtype != "auto":
            return str(self.config.dtype)
        return "bfloat16" if self._device().startswith("cuda") else "float32"

    @property
    def pipeline(self) -> Any:
        """The loaded diffusers pipeline (loads it on first access)."""
        if self._pipe is None:
            self._pipe = self._load()
        return self._pipe

    def _load(self) -> Any:
        import torch

        cfg = self.config
        self._check_checkpoint_class()
        if self._device() == "cpu":
            self._warn_cpu()
        dtype = getattr(torch, self._dtype_name())
        log.info("loading %s pipeline %s (%s) on %s", self.label, cfg.model, dtype, self._device())
        offline = "run with --generator synthetic (no model)"
        with hub_model(
            f"{self.label} pipeline", cfg.model, "--generator-opt model=PATH", offline
        ) as local:
            pipe = self._from_pretrained(dtype, local)
        self.transformer = pipe.transformer
        self._configure(pipe)
        adapter = self._resolved_adapter()
        if adapter is not None:
            adapter.load_into(pipe, cfg.lora_scale)
        self._place(pipe)
        return pipe

    def _check_checkpoint_class(self) -> None:
        """A checkpoint of another pipeline is one clear line, not a stack of loading errors."""
        found = checkpoint_class(self.config.model)
        if found is not None and found != self.pipeline_class:
            from dsr.generation.base import GENERATORS

            other = [n for n in GENERATORS.names() if _pipeline_of(n) == found]
            hint = f"use --generator {other[0]}" if other else "give a checkpoint of this family"
            raise ConfigError(
                f"{self.config.model!r} is a {found} checkpoint, not a {self.pipeline_class} one "
                f"(--generator {self.name}): {hint}"
            )

    def _from_pretrained(self, dtype: Any, local: bool) -> Any:
        import diffusers

        given = {"transformer": self.transformer} if self.transformer is not None else {}
        return getattr(diffusers, self.pipeline_class).from_pretrained(
            self.config.model,
            dtype=dtype,
            local_files_only=local,
            **self._components(local),
            **given,
        )

    def _components(self, local: bool) -> dict[str, Any]:
        """Components loaded apart from the pipeline (e.g. a VAE in another precision)."""
        return {}

    def _configure(self, pipe: Any) -> None:
        """Family set-up of the loaded pipeline (scheduler, guider) before the adapter."""

    def _place(self, pipe: Any) -> None:
        cfg = self.config
        if cfg.vae_tiling:
            pipe.vae.enable_tiling()
        if cfg.vae_slicing:
            pipe.vae.enable_slicing()
        if cfg.cpu_offload:
            pipe.enable_model_cpu_offload(device=self._device())
        else:
            pipe.to(self._device())
        pipe.set_progress_bar_config(disable=True)
        if self._device() == "cpu":
            self._warn_cpu_size(pipe)

    def _warn_cpu(self) -> None:
        """Say how long a video will take before loading (families that can estimate it)."""

    def _warn_cpu_size(self, pipe: Any) -> None:
        count = sum(p.numel() for p in pipe.transformer.parameters())
        if count > CPU_WARN_PARAMETERS:
            log.warning(
                "no CUDA GPU: the %s generator runs a %.1fB-parameter transformer on the CPU, "
                "hours per video: use a machine with a GPU, or --generator synthetic to try the "
                "pipeline",
                self.name,
                count / 1e9,
            )

    def _text(self, prompt: DSRPrompt) -> str:
        return prompt.render_from_to() if self.config.prompt_field == "from_to" else prompt.render()

    def _batch_kwargs(self, text: str, count: int) -> dict[str, Any]:
        """The prompt arguments of one call for ``count`` seeds: the prompt repeated (pipelines
        such as CogVideoX ignore ``num_videos_per_prompt``)."""
        return {"prompt": [text] * count, "negative_prompt": [self.config.negative_prompt] * count}

    def _call_kwargs(self) -> dict[str, Any]:
        """Sampling arguments beyond the prompt, sizes, steps and generators."""
        cfg = self.config
        return {
            "guidance_scale": cfg.guidance_scale,
            "max_sequence_length": cfg.max_sequence_length,
        }

    def generate(self, prompt: DSRPrompt, seeds: Sequence[int]) -> list[GeneratedVideo]:
        """One video per seed; all seeds of the call run as one batch."""
        import torch

        cfg = self.config
        seeds = [int(s) for s in seeds]
        generators = [torch.Generator("cpu").manual_seed(s) for s in seeds]
        with torch.inference_mode():
            out = self.pipeline(
                **self._batch_kwargs(self._text(prompt), len(seeds)),
                height=cfg.height,
                width=cfg.width,
                num_frames=cfg.num_frames,
                num_inference_steps=cfg.num_inference_steps,
                generator=generators,
                output_type="np",
                **self._call_kwargs(),
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
                frames=to_uint8(v), fps=cfg.fps, seed=s, settings={**settings, "batch_index": i}
            )
            for i, (s, v) in enumerate(zip(seeds, videos, strict=True))
        ]


def _pipeline_of(generator: str) -> str | None:
    from dsr.generation.base import GENERATORS

    return getattr(GENERATORS.resolve(generator), "pipeline_class", None)


def to_uint8(video: np.ndarray) -> np.ndarray:
    """Float frames in [0, 1] (T, H, W, 3) → uint8."""
    return (np.clip(np.asarray(video, dtype=np.float32), 0.0, 1.0) * 255.0).round().astype(np.uint8)
