"""Where a LoRA adapter for a diffusers generator (``wan``, ``cogvideox``, ...) comes from: a
folder, or a Hub repo id with an optional ``@revision`` (``you/wan-spatialalign@v1.0.0``).

:func:`parse_adapter_source` checks the text offline (the generator's options are checked before
any work); :meth:`AdapterSource.resolve` finds the weights file (downloading a Hub adapter once)
and hashes it, so that every sample's settings name the exact adapter that made it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dsr.errors import ConfigError, model_load_errors
from dsr.model_loading import hub_model

__all__ = ["LORA_WEIGHTS", "AdapterSource", "parse_adapter_source"]

#: The file a pipeline's ``save_lora_weights`` (and ``dsr train``) writes.
LORA_WEIGHTS = "pytorch_lora_weights.safetensors"
#: The name the adapter gets inside the pipeline.
ADAPTER_NAME = "dsr_lora"


@dataclass(frozen=True)
class AdapterSource:
    """A LoRA adapter: ``source`` as given (without ``@revision``), and once resolved, its local
    folder, weights file and content hash."""

    source: str
    revision: str | None = None
    is_local: bool = False
    folder: Path | None = None
    weight_name: str | None = None
    sha256: str | None = None
    commit: str | None = None

    def resolve(self) -> AdapterSource:
        """The same source with its folder, weights file and SHA-256 (downloads a Hub adapter)."""
        folder = Path(self.source).expanduser() if self.is_local else self._download()
        weights = _weights_file(folder, self.source)
        commit = None if self.is_local else folder.name  # a snapshot folder is named by its commit
        return replace(
            self, folder=folder, weight_name=weights.name, sha256=_sha256(weights), commit=commit
        )

    def _download(self) -> Path:
        from huggingface_hub import snapshot_download

        with hub_model(
            "LoRA adapter", self.source, "--generator-opt lora=FOLDER_OR_REPO[@REV]"
        ) as local:
            folder = snapshot_download(
                self.source,
                revision=self.revision,
                allow_patterns=["*.safetensors", "*.json"],
                local_files_only=local,
            )
        return Path(folder)

    def settings(self) -> dict[str, Any]:
        """What a sample records about its adapter (besides ``lora`` and ``lora_scale``)."""
        return {
            "lora_revision": self.revision,
            "lora_commit": self.commit,
            "lora_weight_name": self.weight_name,
            "lora_sha256": self.sha256,
        }

    def load_into(self, pipe: Any, scale: float) -> None:
        """``load_lora_weights`` into ``pipe`` and set the adapter's strength."""
        if self.folder is None:
            raise ConfigError(
                f"the LoRA adapter {self.source!r} is not resolved yet (call resolve() first)"
            )
        with model_load_errors(
            "LoRA adapter", self.source, "--generator-opt lora=FOLDER_OR_REPO[@REV]"
        ):
            try:
                _load_lora(pipe, str(self.folder), self.weight_name, float(scale))
            except (ValueError, KeyError, RuntimeError) as exc:
                raise ConfigError(
                    f"{self.source!r} is not a LoRA adapter of this {type(pipe).__name__} model "
                    f"({exc}): give an adapter trained on this base model (dsr train)"
                ) from None


def _load_lora(pipe: Any, folder: str, weight_name: str | None, scale: float) -> None:
    """The pipeline's ``load_lora_weights`` where it has one; else (HunyuanVideo 1.5's pipeline
    has no LoRA loader in diffusers 0.42) the transformer's ``load_lora_adapter``, which reads the
    same file (keys prefixed ``transformer.``, rank and alpha from its metadata)."""
    if hasattr(pipe, "load_lora_weights"):
        pipe.load_lora_weights(folder, weight_name=weight_name, adapter_name=ADAPTER_NAME)
        pipe.set_adapters([ADAPTER_NAME], adapter_weights=[scale])
        return
    pipe.transformer.load_lora_adapter(
        folder, weight_name=weight_name, adapter_name=ADAPTER_NAME, prefix="transformer"
    )
    pipe.transformer.set_adapters([ADAPTER_NAME], weights=[scale])


def _looks_like_path(text: str) -> bool:
    return (
        text.startswith(("/", "./", "../", "~"))
        or text.count("/") > 1
        or text.endswith(".safetensors")
    )


def parse_adapter_source(text: str) -> AdapterSource:
    """A folder that exists, or a Hub repo id ``namespace/name[@revision]``; anything else is a
    one-line ConfigError."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(
            f"lora={text!r}: give an adapter folder or a Hub repo id (namespace/name[@revision])"
        )
    path = Path(text).expanduser()
    if path.is_dir():
        return AdapterSource(source=text, is_local=True)
    if path.exists() or _looks_like_path(text):
        raise ConfigError(
            f"lora={text!r}: no such adapter folder (it should hold {LORA_WEIGHTS}); give the "
            "folder `dsr train` wrote, or a Hub repo id"
        )
    repo, _, revision = text.partition("@")
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo)
    except HFValidationError:
        raise ConfigError(
            f"lora={text!r} is neither a folder nor a Hub repo id: use a folder or "
            "namespace/name[@revision]"
        ) from None
    if "@" in text and not revision:
        raise ConfigError(
            f"lora={text!r}: nothing after '@': give a revision (tag, branch or commit) "
            "or drop the '@'"
        )
    return AdapterSource(source=repo, revision=revision or None)


def _weights_file(folder: Path, source: str) -> Path:
    """The adapter's safetensors file: ``pytorch_lora_weights.safetensors``, else the only one."""
    if (folder / LORA_WEIGHTS).is_file():
        return folder / LORA_WEIGHTS
    found = sorted(folder.glob("*.safetensors"))
    if len(found) != 1:
        what = "no .safetensors file" if not found else f"{len(found)} .safetensors files"
        raise ConfigError(
            f"the LoRA adapter {source!r} holds {what}: it should hold {LORA_WEIGHTS} (as `dsr "
            "train` writes it)"
        )
    return found[0]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
