"""Precomputed training inputs: VAE latents of the videos and text embeddings of the prompts.

Training steps never run the VAE or the text encoder: before the first step each needed video is
decoded and encoded once into normalized latents (the model family's normalization: for Wan
(z − latents_mean) / latents_std, the inverse of what ``WanPipeline`` does before decoding,
:mod:`dsr.training.families`) and each prompt is encoded once with the pipeline's own
``encode_prompt``. Both are stored as safetensors in a cache shared between runs::

    <cache_dir>/
    ├── latents/<vae key>/<sha256 of the mp4>.safetensors      {"latents": (C, F, H, W)}
    ├── text/<text key>/<sha256 of text and length>.safetensors {"prompt_embeds": (L, D), and the
    │                                                            family's other text tensors}
    └── hashes/<digest of a parquet path>.json   {path, size, mtime_ns, hashes: {sample_id: sha256}}

A *key* is a hash of the component's weights fingerprint (config and a digest of each weight
file, see :func:`component_fingerprint`) and of every preprocessing setting (frames, size, dtype),
so a different checkpoint or setting never reads stale entries. Files are written atomically; a
killed precomputation resumes with the missing files only. Work is split over ranks (file ``i`` of
the sorted list to rank ``i % world``); every rank then reads every file.

Memory stays bounded by a few videos whatever the dataset size: the mp4 bytes are streamed from
the parquet files, one row group at a time, twice: once to hash them (the hashes are remembered per
parquet file by its path, size and modification time, so checking an unchanged cache reads no video
again) and once, only for the entries missing, to decode them in a small thread pool a few videos
ahead of the VAE. Per video, only the pair set's metadata and the content hash are kept.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsr.errors import DataError, ModelLoadError
from dsr.layout import atomic_write_bytes
from dsr.model_loading import hub_model
from dsr.progress import progress_bar

if TYPE_CHECKING:
    import torch

    from dsr.training.config import SpatialAlignConfig
    from dsr.training.data import DatasetSource, PairSet
    from dsr.training.families import TrainingFamily

__all__ = ["CacheIndex", "CacheSpec", "component_fingerprint", "default_cache_dir", "precompute"]

log = logging.getLogger(__name__)

LATENTS_KEY = "latents"
TEXT_KEY = "prompt_embeds"
DEFAULT_MAX_SEQUENCE_LENGTH = 512
_HEAD = 1 << 20
#: Subfolder of the cache root remembering the content hashes of each parquet file.
HASHES_DIR = "hashes"
#: Videos decoded ahead of the VAE (bytes and pixels held at once), and the threads decoding them.
PREFETCH_VIDEOS = 2
DECODE_THREADS = 2


def default_cache_dir() -> Path:
    """$DSR_CACHE_DIR, else $HF_HOME/dsr/training-cache."""
    if os.environ.get("DSR_CACHE_DIR"):
        return Path(os.environ["DSR_CACHE_DIR"])
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "dsr" / "training-cache"


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def component_folder(model: str, subfolder: str, revision: str | None = None) -> Path:
    """The local folder of one pipeline component (downloaded to the Hub cache for a Hub id)."""
    local = Path(model).expanduser()
    if local.is_dir():
        return local / subfolder
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(model)
    except HFValidationError:
        raise ModelLoadError(
            f"base model {model} is neither a folder nor a Hub repo id: give the folder of a "
            "diffusers Wan pipeline or an id like Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
        ) from None
    with hub_model(f"base model's {subfolder}", model, "--base-model PATH") as cache_only:
        folder = snapshot_download(
            model,
            revision=revision,
            allow_patterns=[f"{subfolder}/*"],
            local_files_only=cache_only,
        )
    return Path(folder) / subfolder


def check_base_model(model: str, revision: str | None = None) -> None:
    """The checkpoint is of a family dsr trains, and every component training needs is there
    (fetching it for a Hub id), before any heavy work."""
    family = _family_of(model, revision)
    for name in ("transformer", "vae", *family.text_components):
        folder = component_folder(model, name, revision)
        if not folder.is_dir() or not any(folder.iterdir()):
            raise ModelLoadError(
                f"base model {model} has no {name}/ folder: give a complete diffusers "
                f"{family.pipeline_class} checkpoint (e.g. Wan-AI/Wan2.1-T2V-1.3B-Diffusers for "
                "Wan) with --base-model"
            )


def _family_of(model: str, revision: str | None) -> TrainingFamily:
    from dsr.training.families import load_family

    return load_family(model, revision)


def component_fingerprint(folder: Path) -> str:
    """A cheap content fingerprint of a component folder: per file its name, size and the sha256
    of its first and last MiB (weights files differ there when checkpoints differ)."""
    if not folder.is_dir():
        raise DataError(f"{folder} does not exist: the base model lacks this component")
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(folder).as_posix()}\0{size}\0".encode())
        with path.open("rb") as fh:
            digest.update(fh.read(_HEAD))
            if size > 2 * _HEAD:
                fh.seek(size - _HEAD)
                digest.update(fh.read(_HEAD))
    return digest.hexdigest()


@dataclass(frozen=True)
class CacheSpec:
    """Where the entries of one (VAE, text encoder, preprocessing) combination live."""

    root: Path
    latent_key: str
    text_key: str

    @property
    def latent_folder(self) -> Path:
        return self.root / "latents" / self.latent_key

    @property
    def text_folder(self) -> Path:
        return self.root / "text" / self.text_key

    def latent_path(self, content_hash: str) -> Path:
        return self.latent_folder / f"{content_hash}.safetensors"

    def text_path(self, text_hash: str) -> Path:
        return self.text_folder / f"{text_hash}.safetensors"


class EntryPaths(Mapping[str, Path]):
    """id → entry file of one cache folder, made on access from the id's content hash: a ``Path``
    held per video for the whole run would cost about 0.4 KiB each, and pathlib interns every
    file name it parses, which grows the interpreter's table of interned strings for good."""

    def __init__(self, folder: Path, hashes: Mapping[str, str]) -> None:
        self._folder = folder
        self._hashes = hashes

    def __getitem__(self, key: str) -> Path:
        return self._folder / f"{self._hashes[key]}.safetensors"

    def __iter__(self) -> Iterator[str]:
        return iter(self._hashes)

    def __len__(self) -> int:
        return len(self._hashes)


@dataclass(frozen=True)
class CacheIndex:
    """Per sample its latents file, per prompt its embedding file (all present on disk)."""

    latents: Mapping[str, Path]
    text: Mapping[str, Path]
    spec: CacheSpec
    computed: dict[str, int]

    def load_latents(self, sample_id: str) -> torch.Tensor:
        return _load(self.latents[sample_id], LATENTS_KEY)

    def load_text(self, prompt_id: str) -> torch.Tensor:
        return _load(self.text[prompt_id], TEXT_KEY)

    def load_text_tensors(self, prompt_id: str) -> dict[str, torch.Tensor]:
        """Every text tensor of a prompt (``prompt_embeds`` and, for some families, masks and a
        second encoder's embeddings), as float32."""
        from safetensors.torch import load_file

        return {k: v.float() for k, v in load_file(str(self.text[prompt_id])).items()}


def _load(path: Path, key: str) -> torch.Tensor:
    from safetensors.torch import load_file

    return load_file(str(path))[key].float()


def _save(path: Path, key: str, tensor: torch.Tensor, dtype: str, metadata: dict[str, str]) -> None:
    _save_tensors(path, {key: tensor}, dtype, metadata)


def _save_tensors(
    path: Path, tensors: dict[str, torch.Tensor], dtype: str, metadata: dict[str, str]
) -> None:
    import torch
    from safetensors.torch import save

    data = {k: t.detach().to("cpu", getattr(torch, dtype)).contiguous() for k, t in tensors.items()}
    atomic_write_bytes(path, save(data, metadata=metadata))


def _family(config: SpatialAlignConfig) -> TrainingFamily:
    return _family_of(config.base_model, config.base_model_revision)


def cache_spec(config: SpatialAlignConfig, family: TrainingFamily | None = None) -> CacheSpec:
    """The cache location and keys of ``config`` (fingerprints the VAE and text encoder files);
    other families than Wan add their name and what else their entries depend on."""
    family = family or _family(config)
    root = Path(config.cache_dir).expanduser() if config.cache_dir else default_cache_dir()

    def fingerprint(name: str) -> str:
        return component_fingerprint(
            component_folder(config.base_model, name, config.base_model_revision)
        )

    vae = fingerprint("vae")
    text = [fingerprint(name) for name in family.text_components]
    tag = list(family.cache_tag())
    latent_key = _digest(
        "vae",
        vae,
        config.train_num_frames,
        config.train_height,
        config.train_width,
        config.cache_dtype,
        "mode",
        "bilinear-antialias",
        *tag,
    )[:20]
    text_key = _digest("text", *text, config.cache_dtype, _text_dtype(config), *tag)[:20]
    return CacheSpec(root, latent_key, text_key)


def _text_dtype(config: SpatialAlignConfig) -> str:
    if config.base_dtype != "auto":
        return config.base_dtype
    import torch

    return "bfloat16" if torch.cuda.is_available() and not config.use_cpu else "float32"


def _prompt_text(settings_json: str | None, fallback: str) -> tuple[str, int | None]:
    """The exact text given to the generator and its max_sequence_length, from a
    sample's settings."""
    try:
        settings = json.loads(settings_json or "{}")
    except json.JSONDecodeError:
        settings = {}
    return settings.get("prompt_text") or fallback, settings.get("max_sequence_length")


def prompt_texts(
    pairs: PairSet,
    max_sequence_length: int | None,
    default_length: int = DEFAULT_MAX_SEQUENCE_LENGTH,
) -> dict[str, tuple[str, int]]:
    """prompt_id → (text as generated, max_sequence_length) for every qualifying prompt; the
    length is the setting, else the samples' recorded one, else the family's default."""
    out = {}
    for p in pairs.prompts:
        sample = pairs.samples[p.chosen[0]]
        text, length = _prompt_text(
            sample.get("generator_settings"), sample.get("prompt") or p.prompt
        )
        out[p.prompt_id] = (text, max_sequence_length or length or default_length)
    return out


def precompute(
    config: SpatialAlignConfig,
    pairs: PairSet,
    source: DatasetSource,
    *,
    rank: int = 0,
    world: int = 1,
    device: str = "cpu",
    show_progress: bool = True,
) -> CacheIndex:
    """Encode what this rank's slice misses; returns the index of every entry (maybe not all on
    disk yet when other ranks still work: call :func:`check_complete` after a barrier)."""
    family = _family(config)
    spec = cache_spec(config, family)
    wanted = set(pairs.sample_ids)
    hashes = content_hashes(spec, source, wanted, config.samples_config, config.split)
    if len(hashes) != len(wanted):
        raise DataError(
            f"{len(wanted) - len(hashes)} paired sample(s) have no row with a video in the "
            "samples config"
        )
    todo = {
        sid
        for i, sid in enumerate(pairs.sample_ids)
        if i % world == rank and not spec.latent_path(hashes[sid]).exists()
    }
    texts = prompt_texts(pairs, config.max_sequence_length, family.default_max_sequence_length)
    text_hashes = {pid: _digest(text, length) for pid, (text, length) in texts.items()}
    text_todo = [
        (pid, texts[pid])
        for i, pid in enumerate(sorted(texts))
        if i % world == rank and not spec.text_path(text_hashes[pid]).exists()
    ]
    _encode_videos(config, family, spec, source, todo, hashes, device, show_progress)
    _encode_texts(config, family, spec, text_todo, text_hashes, device, show_progress)
    return CacheIndex(
        EntryPaths(spec.latent_folder, hashes),
        EntryPaths(spec.text_folder, text_hashes),
        spec,
        {
            "latents_computed": len(todo),
            "latents_total": len(hashes),
            "text_computed": len(text_todo),
            "text_total": len(texts),
        },
    )


def content_hashes(
    spec: CacheSpec, source: DatasetSource, wanted: set[str], samples_config: str, split: str
) -> dict[str, str]:
    """sample_id → sha256 of its mp4 bytes for the wanted samples, streamed file by file and
    remembered per parquet file by (path, size, mtime), so an unchanged dataset is not re-read."""
    from dsr.builders.folder import DatasetFolder

    hashes: dict[str, str] = {}
    for path in DatasetFolder(source.root).data_files(samples_config, split):
        hashes.update(_file_hashes(spec.root / HASHES_DIR, path, wanted))
    return hashes


def _file_hashes(memo_dir: Path, path: Path, wanted: set[str]) -> dict[str, str]:
    import pyarrow.parquet as pq

    from dsr.builders.dataset_source import iter_file_video_bytes

    real = path.resolve()
    stat = real.stat()
    key = {"path": str(real), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    memo_path = memo_dir / f"{_digest(str(real))[:24]}.json"
    memo = _read_memo(memo_path, key)
    # ParquetFile, not read_table: read_table goes through pyarrow.dataset, which imports pandas
    # (≈ 50 MiB of RSS for a column of ids)
    ids = set(pq.ParquetFile(real).read(columns=["sample_id"]).column(0).to_pylist())
    needed = wanted & ids
    missing = needed - memo.keys()
    for sid, data in iter_file_video_bytes(real, missing):
        if data is None:
            raise DataError(
                f"sample {sid} has no video bytes: rebuild it, or drop it from the pairs"
            )
        memo[sid] = hashlib.sha256(data).hexdigest()
    if missing:
        record = {**key, "hashes": memo}
        atomic_write_bytes(memo_path, json.dumps(record, sort_keys=True).encode())
    return {sid: memo[sid] for sid in needed if sid in memo}


def _read_memo(memo_path: Path, key: dict[str, Any]) -> dict[str, str]:
    """The remembered hashes of one parquet file, or none when the file changed since."""
    try:
        record = json.loads(memo_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict) or any(record.get(k) != v for k, v in key.items()):
        return {}
    hashes = record.get("hashes")
    return dict(hashes) if isinstance(hashes, dict) else {}


def check_complete(index: CacheIndex) -> None:
    """Every entry on disk (after all ranks finished their slices)."""
    missing = [p for p in (*index.latents.values(), *index.text.values()) if not p.exists()]
    if missing:
        raise DataError(
            f"{len(missing)} cache entries are missing after precomputation (first: "
            f"{missing[0].name}); a rank failed: re-run, finished entries are kept"
        )


def _progress(items: list[Any], desc: str, unit: str, show: bool) -> Iterable[Any]:
    return progress_bar(items, desc=desc, unit=unit, disable=not show or not items)


def _encode_videos(
    config: SpatialAlignConfig,
    family: TrainingFamily,
    spec: CacheSpec,
    source: DatasetSource,
    todo: set[str],
    hashes: dict[str, str],
    device: str,
    show: bool,
) -> None:
    if not todo:
        return
    import torch

    from dsr.training.families import check_pixels

    vae = _load_vae(config, device, family)
    bar = progress_bar(total=len(todo), desc="precompute latents", unit="video", disable=not show)
    with bar:
        for sid, pixels in decoded_videos(config, source, todo):
            check_pixels(family, sid, tuple(pixels.shape))
            with torch.inference_mode():
                z = family.normalize_latents(vae, vae.encode(pixels.to(device)).latent_dist.mode())
            _save(
                spec.latent_path(hashes[sid]),
                LATENTS_KEY,
                z[0],
                config.cache_dtype,
                {"sample_id": sid, "frames": str(pixels.shape[2])},
            )
            bar.update(1)
    del vae
    _release_memory()


def _load_vae(config: SpatialAlignConfig, device: str, family: TrainingFamily) -> Any:
    import diffusers
    import torch

    what = "Wan VAE" if family.name == "wan" else f"{family.name} VAE"
    with hub_model(what, config.base_model, "--base-model PATH") as local:
        vae = getattr(diffusers, family.vae_class).from_pretrained(
            config.base_model,
            subfolder="vae",
            revision=config.base_model_revision,
            dtype=torch.float32,
            local_files_only=local,
        )
    vae = vae.to(device).eval()
    if config.vae_tiling:
        vae.enable_tiling()
    return vae


def decoded_videos(
    config: SpatialAlignConfig,
    source: DatasetSource,
    todo: set[str],
    *,
    prefetch: int = PREFETCH_VIDEOS,
    threads: int = DECODE_THREADS,
) -> Iterator[tuple[str, torch.Tensor]]:
    """(sample_id, pixels) of the ``todo`` samples, decoded by ``threads`` threads at most
    ``prefetch`` videos ahead of the consumer: decoding overlaps the VAE, and no more than
    ``prefetch`` videos (bytes and pixels) besides the one the consumer holds, plus the parquet row
    group being read (datasets writes them under ~100 MB), are held at once."""
    from concurrent.futures import Future, ThreadPoolExecutor

    from dsr.builders.dataset_source import iter_video_bytes

    size = (config.train_num_frames, config.train_height, config.train_width)
    stream = iter_video_bytes(
        source, todo, samples_config=config.samples_config, split=config.split
    )
    window: deque[tuple[str, Future[torch.Tensor]]] = deque()
    with ThreadPoolExecutor(max(1, threads), thread_name_prefix="dsr-decode") as pool:
        try:
            for sid, data in stream:
                if data is None:
                    raise DataError(
                        f"sample {sid} has no video bytes: rebuild it, or drop it from the pairs"
                    )
                window.append((sid, pool.submit(video_tensor, data, sid, *size)))
                del data
                if len(window) >= max(1, prefetch):
                    first, future = window.popleft()
                    yield first, future.result()
            while window:
                first, future = window.popleft()
                yield first, future.result()
        finally:
            for _, future in window:
                future.cancel()


def video_tensor(
    data: bytes, sample_id: str, num_frames: int | None, height: int | None, width: int | None
) -> torch.Tensor:
    """Pixels in [-1, 1], shape (1, 3, T, H, W): frames sampled uniformly, resized if asked."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from dsr.media import decode_video

    try:
        frames, _ = decode_video(data)
    except DataError as exc:
        raise DataError(f"sample {sample_id}: {exc}") from None
    total = frames.shape[0]
    if num_frames is not None:
        frames = frames[np.linspace(0, total - 1, num_frames).round().astype(int)]
    elif (total - 1) % 4:
        raise DataError(
            f"sample {sample_id} has {total} frames; Wan's VAE needs 4k+1: set train_num_frames"
        )
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    if height is not None and width is not None:
        x = F.interpolate(
            x, size=(height, width), mode="bilinear", antialias=True, align_corners=False
        )
    elif x.shape[-2] % 16 or x.shape[-1] % 16:
        raise DataError(
            f"sample {sample_id} is {x.shape[-2]}x{x.shape[-1]}; Wan needs multiples of 16: "
            "set train_height and train_width"
        )
    return x.clamp(-1.0, 1.0).permute(1, 0, 2, 3).unsqueeze(0)


def _encode_texts(
    config: SpatialAlignConfig,
    family: TrainingFamily,
    spec: CacheSpec,
    todo: list[tuple[str, tuple[str, int]]],
    hashes: dict[str, str],
    device: str,
    show: bool,
) -> None:
    if not todo:
        return
    import diffusers
    import torch

    dtype = getattr(torch, _text_dtype(config))
    what = "Wan text encoder" if family.name == "wan" else f"{family.name} text encoder"
    with hub_model(what, config.base_model, "--base-model PATH") as local:
        pipe = getattr(diffusers, family.pipeline_class).from_pretrained(
            config.base_model,
            **dict.fromkeys(family.text_pipeline_without),
            revision=config.base_model_revision,
            dtype=dtype,
            local_files_only=local,
        )
    for name in family.text_components:
        if name.startswith("text_encoder"):
            getattr(pipe, name).to(device).eval()
    for pid, (text, length) in _progress(todo, "precompute text", "prompt", show):
        with torch.inference_mode():
            tensors = family.encode_text(pipe, text, length, torch.device(device), dtype)
        _save_tensors(
            spec.text_path(hashes[pid]),
            tensors,
            config.cache_dtype,
            {"prompt_id": pid, "max_sequence_length": str(length)},
        )
    del pipe
    _release_memory()


def _release_memory() -> None:
    """Give the memory of the dropped VAE / text encoder back before training starts."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
