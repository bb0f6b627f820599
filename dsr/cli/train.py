"""``dsr train``: SpatialAlign (DPO + ZO) LoRA training on a dataset built by ``dsr build-videos``.

The options are generated from :class:`dsr.training.options.SpatialAlignOptions`; any other
``transformers.TrainingArguments`` field is accepted as ``--field-name VALUE``. Runs under
``accelerate launch -m dsr train ...`` and ``torchrun -m dsr train ...`` as well.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dsr.cli._dataclass_options import dataclass_options, field_kwargs
from dsr.training.options import SpatialAlignOptions

EPILOG = """Any transformers.TrainingArguments field is also accepted as --field-name VALUE, e.g.
--save-steps 100 --report-to tensorboard --seed 0 --save-total-limit 3.
Re-running the same command resumes from the last complete checkpoint."""


class _RecordArgs(click.Command):
    """Keeps the arguments as given, for the command line recorded in the model card."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["dsr.argv"] = list(args)
        return super().parse_args(ctx, args)


@click.command(
    "train",
    cls=_RecordArgs,
    epilog=EPILOG,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    help="Folder of the adapter, checkpoints and card.",
)
@dataclass_options(SpatialAlignOptions, exclude=("remove_unused_columns",))
@click.option(
    "--push-to-hub",
    "push_to_hub",
    is_flag=False,
    flag_value="true",
    metavar="[BOOL]",
    help="Push the finished adapter folder to --hub-model-id (default: <your user>/<name of "
    "--output-dir>), as TrainingArguments' push_to_hub (one commit, tagged with --version; repo, "
    "token and tag checked before training starts).",
)
@click.option(
    "--push",
    "push_repo",
    metavar="REPO_ID",
    help="Shortcut for --push-to-hub --hub-model-id REPO_ID.",
)
@click.option("--private", is_flag=True, help="Create the Hub repo private.")
@click.option(
    "--tiny",
    is_flag=True,
    help="Train a tiny random Wan (built in OUTPUT_DIR/tiny-wan) for a few steps "
    "on the CPU: the embedded default, e.g. on the demo dataset.",
)
@click.option(
    "--precompute-only",
    is_flag=True,
    help="Only precompute the latents and text embeddings (cached).",
)
@click.pass_context
def train(ctx: click.Context, **kw: Any) -> None:
    """Train a SpatialAlign LoRA adapter on DSR-Score preference pairs."""
    from dsr.cards import sanitize_command
    from dsr.cli._dataclass_options import parse_field_args

    repo = _preflight(ctx, kw)
    # every option and input is checked: only now torch, transformers and diffusers load
    from dsr.training.config import SpatialAlignConfig
    from dsr.training.run import train as run_train

    values = {
        **parse_field_args(ctx.args, SpatialAlignConfig, command="dsr train"),
        **field_kwargs(SpatialAlignOptions, kw),
        "output_dir": kw["output_dir"],
    }
    if kw["push_to_hub"] is not None:
        values["push_to_hub"] = _flag_value(kw["push_to_hub"])
    if kw["push_repo"]:
        values["push_to_hub"], values["hub_model_id"] = True, kw["push_repo"]
    if repo:
        values["hub_model_id"] = repo
    if kw["private"]:
        values["hub_private_repo"] = True
    if kw["tiny"]:
        values = _tiny(values)
    command = sanitize_command(["dsr", "train", *ctx.meta["dsr.argv"]])
    result = run_train(
        SpatialAlignConfig(**values), command=command, precompute_only=kw["precompute_only"]
    )
    _summary(result, kw["precompute_only"])


def _preflight(ctx: click.Context, kw: dict[str, Any]) -> str | None:
    """The checks that need no torch and no model: the options (ours and TrainingArguments'), the
    output folder, the dataset and its pairs; returns the repo of a push (``<user>/<name of
    --output-dir>`` without --hub-model-id, as TrainingArguments) or None."""
    from dsr.cli._dataclass_options import parse_field_args
    from dsr.fileio import check_output_dir
    from dsr.training.preflight import check_inputs, hub_repo_id, training_argument_fields

    push = bool(kw["push_repo"]) or (
        kw["push_to_hub"] is not None and _flag_value(kw["push_to_hub"])
    )
    if kw["output_dir"]:
        check_output_dir(kw["output_dir"], "--output-dir")
    given = field_kwargs(SpatialAlignOptions, kw)
    options = SpatialAlignOptions(**given)  # validates our own options
    fields = training_argument_fields()
    free = parse_field_args(ctx.args, fields, command="dsr train") if fields is not None else {}
    check_inputs(
        options,
        output_dir=kw["output_dir"],
        tiny=kw["tiny"],
        base_model_given="base_model" in given,
    )
    if not push or fields is None:  # without transformers' source, run.train names the repo
        return None
    repo = kw["push_repo"] or free.get("hub_model_id")
    return hub_repo_id(repo, kw["output_dir"], free.get("hub_token"))


#: The boolean spellings of transformers' argument parser (``string_to_bool``).
_TRUE, _FALSE = ("yes", "true", "t", "y", "1"), ("no", "false", "f", "n", "0")


def _flag_value(text: str) -> bool:
    """``--push-to-hub [BOOL]`` as ``HfArgumentParser`` reads it; a repo id is refused by name."""
    from dsr.errors import ConfigError

    if text.lower() in _TRUE + _FALSE:
        return text.lower() in _TRUE
    raise ConfigError(
        f"--push-to-hub {text}: --push-to-hub is a flag, as in TrainingArguments; give the repo "
        f"with --hub-model-id {text} (or --push {text})"
    )


def _tiny(values: dict[str, Any]) -> dict[str, Any]:
    from accelerate import PartialState

    from dsr.training.tiny import TINY_TRAINING, tiny_base_model

    with PartialState().main_process_first():
        base = tiny_base_model(values["output_dir"])
    return {**TINY_TRAINING, **values, "base_model": str(base)}


def _summary(result: Any, precompute_only: bool) -> None:
    from accelerate import PartialState

    if not PartialState().is_main_process:
        return
    cache = result.cache
    click.echo(
        f"data: {result.data['prompts']} prompts, {result.data['samples']} videos; cache: latents "
        f"{cache.get('latents_computed', 0)} computed / {cache.get('latents_total', 0)}, text "
        f"{cache.get('text_computed', 0)} / {cache.get('text_total', 0)}"
    )
    if precompute_only:
        return
    if result.already_done:
        click.echo(f"already trained ({result.global_step} steps): {result.output_dir}")
    else:
        resumed = f" (resumed from {result.resumed_from})" if result.resumed_from else ""
        click.echo(f"trained {result.global_step} steps{resumed}")
        for name, value in sorted(result.final_metrics.items()):
            click.echo(f"  {name:<20} {value:.6g}")
    click.echo(f"adapter: {Path(result.output_dir) / 'pytorch_lora_weights.safetensors'}")
    if result.pushed:
        click.echo(f"pushed: {result.pushed}")
