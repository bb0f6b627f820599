"""Which prompts the other configs of a dataset folder depend on, and the refusal to replace them.

``samples`` and ``pairs`` rows name their prompt by ``(split, prompt_id)``, and so do the finished
but not yet merged samples in the work area. Rebuilding ``prompts`` with another seed or input
gives other ids: those rows would name prompts that no longer exist, so ``build-prompts`` refuses
unless asked to replace them (``--force``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from dsr.builders.folder import DatasetFolder
from dsr.errors import ConfigError
from dsr.layout import WORK_DIR

__all__ = ["check_replaceable", "prompt_dependents"]

log = logging.getLogger(__name__)

#: The configs whose rows never depend on the prompts (the prompts themselves).
_INDEPENDENT = ("prompts",)
#: Finished samples of the build-videos work area:
#: ``.dsr/videos/<split>/shard-*/<prompt_id>__seedNN.json``.
_WORK_ROWS = f"{WORK_DIR}/videos/*/shard-*-of-*/*.json"


def _config_keys(folder: DatasetFolder, config: str, split: str) -> set[tuple[str, str]]:
    import polars as pl
    import pyarrow.parquet as pq

    keys: set[tuple[str, str]] = set()
    for path in folder.data_files(config, split):
        if "prompt_id" in pq.read_schema(path).names:
            ids = pl.read_parquet(path, columns=["prompt_id"])["prompt_id"].drop_nulls().to_list()
            keys.update((split, str(pid)) for pid in ids)
    return keys


def _work_keys(root: Path) -> set[tuple[str, str]]:
    keys = set()
    for path in root.glob(_WORK_ROWS):
        if not path.name.startswith("."):
            keys.add((path.parent.parent.name, path.stem.rpartition("__seed")[0]))
    return keys


def prompt_dependents(folder: DatasetFolder) -> dict[str, set[tuple[str, str]]]:
    """Per dependent (a config name, or ``unmerged samples`` for finished samples of the work area
    that no config holds yet), the ``(split, prompt_id)`` it names."""
    out: dict[str, set[tuple[str, str]]] = {}
    for name, record in folder.read_record().get("configs", {}).items():
        if name not in _INDEPENDENT:
            keys = set().union(*(_config_keys(folder, name, s) for s in record.get("splits", {})))
            if keys:
                out[name] = keys
    work = _work_keys(folder.root) - set().union(*out.values())
    if work:
        out["unmerged samples"] = work
    return out


def check_replaceable(
    folder: DatasetFolder, new: set[tuple[str, str]], *, force: bool = False
) -> None:
    """Refuse (``ConfigError``) new prompts that drop a ``(split, prompt_id)`` another config still
    names, unless ``force`` (then only a warning says how many rows now dangle)."""
    missing = {name: keys - new for name, keys in prompt_dependents(folder).items()}
    missing = {name: keys for name, keys in missing.items() if keys}
    if not missing:
        return
    what = ", ".join(f"{len(keys)} prompts named by {name}" for name, keys in missing.items())
    example = "/".join(sorted(next(iter(missing.values())))[0])
    if force:
        log.warning(
            "replacing the prompts of %s drops %s (e.g. %s): those rows now name prompts that no "
            "longer exist",
            folder.root,
            what,
            example,
        )
        return
    raise ConfigError(
        f"the new prompts of {folder.root} would drop {what} (e.g. {example}): write them to "
        "another --out, rebuild with the settings of the existing prompts, or pass --force to "
        "replace them anyway"
    )
