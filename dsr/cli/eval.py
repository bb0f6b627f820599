"""``dsr eval``: the paper's evaluation of a samples config; ``dsr eval compare``:
several side by side."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from dsr.cli._dataclass_options import dataclass_options, field_kwargs
from dsr.evaluation.config import EvalConfig

#: EvalConfig fields given as comma-separated lists (the generated options take one value).
_LIST_FIELDS = ("metrics", "thresholds", "clip_anchors")


class _EvalGroup(click.Group):
    """``dsr eval DATASET ...`` runs ``dsr eval run``; ``dsr eval compare ...`` compares."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("eval", cls=_EvalGroup)
def eval_group() -> None:
    """Evaluate a model's samples as the paper does (Table 2) — `dsr eval DATASET --out DIR` — or
    compare evaluations — `dsr eval compare DIR_A DIR_B ... --out DIR`."""


def _csv(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


@eval_group.command("run")
@click.argument("dataset")
@dataclass_options(EvalConfig, exclude=("dataset", "command", *_LIST_FIELDS))
@click.option(
    "--metrics",
    "metrics_csv",
    help="Comma-separated: dsr, id, clip_iqa, iq.  [default: dsr,id,clip_iqa]",
)
@click.option(
    "--thresholds",
    "thresholds_csv",
    help="Comma-separated thresholds of the curve.  [default: 0.0,...,0.9]",
)
@click.option(
    "--clip-anchors",
    "anchors_csv",
    help="Comma-separated CLIP-IQA anchor pairs.  [default: natural,quality]",
)
@click.option(
    "--model-card",
    metavar="ADAPTER",
    help="Write the results into this adapter's model card (a folder, or "
    "a Hub model repo: one commit; repo and token are checked before the evaluation).",
)
def run(dataset: str, **kw: Any) -> None:
    """Evaluate the samples of DATASET (a folder or a Hub repo id[@revision])."""
    from dsr.cards import sanitize_command
    from dsr.errors import ConfigError
    from dsr.evaluation.model_card import check_target, write_model_card
    from dsr.evaluation.results import format_curve, format_table, format_types
    from dsr.evaluation.runner import evaluate
    from dsr.fileio import check_output_dir

    if not kw.get("out"):
        raise ConfigError(
            "dsr eval needs --out DIR: the folder of eval_results.json, "
            "per_sample.parquet and the plots"
        )
    values = field_kwargs(EvalConfig, kw)
    for name, key in (("metrics", "metrics_csv"), ("clip_anchors", "anchors_csv")):
        if kw[key]:
            values[name] = tuple(_csv(kw[key]) or ())
    if kw["thresholds_csv"]:
        try:
            values["thresholds"] = tuple(float(t) for t in _csv(kw["thresholds_csv"]) or ())
        except ValueError:
            raise ConfigError(
                f"--thresholds {kw['thresholds_csv']!r}: give numbers, e.g. 0.5,0.7,0.9"
            ) from None
    config = EvalConfig(dataset=dataset, command=sanitize_command(["dsr", *sys.argv[1:]]), **values)
    check_output_dir(config.out)
    if kw["model_card"]:
        check_target(kw["model_card"])
    result = evaluate(config)
    if result.results is None:
        click.echo(
            f"shard {result.shard.index}/{result.shard.count} done; the results are written by "
            "the last shard"
        )
        return
    click.echo(format_table([result.results]))
    click.echo(format_curve(result.results))
    click.echo(format_types(result.results))
    click.echo(f"results: {Path(config.out)}")
    if kw["model_card"]:
        card = write_model_card(
            kw["model_card"], result.results, model_name=kw.get("name"), sample=_sample(config)
        )
        click.echo(f"model card: {card}")


def _sample(config: EvalConfig) -> Any:
    """The card's sample GIF: the evaluated video with the best DSR-Score (None without one)."""
    from dsr.evaluation.card_sample import best_sample_gif
    from dsr.evaluation.data import open_source
    from dsr.evaluation.layout import PER_SAMPLE

    source = open_source(config.dataset, config.config, config.split)
    return best_sample_gif(
        source.folder.root, config.config, config.split, Path(config.out) / PER_SAMPLE
    )


@eval_group.command("compare")
@click.argument("folders", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Folder of the comparison files."
)
@click.option(
    "--n-resamples", default=10_000, show_default=True, help="Bootstrap resamples of the prompts."
)
@click.option("--bootstrap-seed", default=0, show_default=True, help="Seed of the resamples.")
@click.option("--level", default=0.95, show_default=True, help="Confidence level of the intervals.")
def compare(
    folders: tuple[str, ...], out: str, n_resamples: int, bootstrap_seed: int, level: float
) -> None:
    """Compare evaluation folders; the first is the baseline of the paired tests."""
    from dsr.evaluation.compare import compare as run_compare
    from dsr.fileio import check_output_dir

    check_output_dir(out)
    comparison = run_compare(
        folders, out, n_resamples=n_resamples, level=level, seed=bootstrap_seed
    )
    click.echo(comparison.markdown)
    click.echo(f"comparison: {Path(out)}")
