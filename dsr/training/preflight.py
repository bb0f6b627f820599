"""The checks of ``dsr train`` that need neither torch nor a model, run before the heavy imports.

Importing torch, transformers and diffusers takes 10-20 s and building a model more: a missing
``--dataset``, a mistyped option or a dataset without pairs must fail before that, in a second.
:func:`training_argument_fields` reads the fields of ``transformers.TrainingArguments`` from its
source (without importing it), so that the free ``--field-name VALUE`` arguments can be checked;
:func:`check_inputs` checks the output folder, the dataset and its pairs; :func:`hub_repo_id`
names the repo of ``--push-to-hub`` (asking the Hub who the user is when it must).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
from pathlib import Path
from typing import Any

from dsr.errors import ConfigError
from dsr.training.options import SpatialAlignOptions

__all__ = ["check_inputs", "hub_repo_id", "training_argument_fields"]

_SCALARS: dict[str, type] = {"bool": bool, "int": int, "float": float, "str": str}


def _field_type(annotation: str) -> Any:
    """``int | None`` → ``int | None``; a scalar type or an optional one; anything else
    (unions, enums, dicts) → ``Any``, which the option parser takes as JSON or text."""
    parts = {part.strip() for part in annotation.replace("Optional[", "").rstrip("]").split("|")}
    optional = "None" in parts
    rest = parts - {"None"}
    if len(rest) != 1 or next(iter(rest)) not in _SCALARS:
        return Any
    base = _SCALARS[next(iter(rest))]
    return base | None if optional else base


def training_argument_fields() -> type | None:
    """A dataclass with the fields of ``transformers.TrainingArguments`` and their scalar types,
    read from transformers' source without importing it (None when that source cannot be read:
    the options are then checked after the import)."""
    spec = importlib.util.find_spec("transformers")
    if spec is None or not spec.submodule_search_locations:
        return None
    source = Path(next(iter(spec.submodule_search_locations))) / "training_args.py"
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None
    found = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "TrainingArguments"]
    if not found:
        return None
    fields = [
        (node.target.id, _field_type(ast.unparse(node.annotation)), dataclasses.field(default=None))
        for node in found[0].body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    ]
    return dataclasses.make_dataclass("TrainingArgumentsFields", fields)


def check_inputs(
    options: SpatialAlignOptions, *, output_dir: str | None, tiny: bool, base_model_given: bool
) -> None:
    """The output folder is named, a local base model is of a family dsr trains, the dataset
    exists and has qualifying pairs, ``--tiny`` is not combined with a base model: everything the
    run needs from the user, before any model (a Hub base model's family is read in ``train``)."""
    from dsr.training.data import load_pair_set, resolve_dataset

    if not output_dir:
        raise ConfigError(
            "--output-dir is not set: give the folder for the adapter and checkpoints"
        )
    if tiny and base_model_given:
        raise ConfigError("--tiny builds its own base model: drop --base-model (or drop --tiny)")
    if base_model_given and Path(options.base_model).expanduser().is_dir():
        from dsr.training.families import family_name

        family_name(options.base_model)
    if not options.dataset:
        raise ConfigError(
            "no dataset: give --dataset (a folder built by `dsr build-videos`, or a Hub repo id)"
        )
    source = resolve_dataset(
        options.dataset,
        options.dataset_revision,
        configs=(options.pairs_config, options.samples_config),
        split=options.split,
    )
    load_pair_set(
        source,
        pairs_config=options.pairs_config,
        samples_config=options.samples_config,
        split=options.split,
        tau=options.tau_train,
    )


def hub_repo_id(hub_model_id: str | None, output_dir: str | Path, token: str | None = None) -> str:
    """The repo ``push_to_hub`` pushes to, named as ``transformers.Trainer.init_hf_repo`` names it:
    ``hub_model_id``, or the name of ``output_dir`` when it is None; a name without a namespace is
    the token's user's (``whoami`` on the configured endpoint, so a missing or refused token fails
    here, before training)."""
    from dsr.hub import user_repo_id

    name = hub_model_id or Path(output_dir).absolute().name
    return name if "/" in name else user_repo_id(name, token)
