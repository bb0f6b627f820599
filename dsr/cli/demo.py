"""``dsr demo``: the whole embedded pipeline on the CPU, no weights and no network needed."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click

LOAD_SNIPPET = """from datasets import load_dataset

samples = load_dataset("{path}", "samples", split="train")
pairs = load_dataset("{path}", "pairs", split="train")
print(samples[0]["sample_id"], samples[0]["dsr_score"], samples[0]["reason"])
video = samples[0]["video"]          # a torchcodec VideoDecoder
print(pairs[0]["chosen_ids"], pairs[0]["rejected_ids"])"""


@click.command()
@click.option(
    "--out",
    "out_dir",
    default="demo_output",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option("--seed", default=0, show_default=True, help="Seed of the template prompts.")
@click.option(
    "--prompts",
    "n_prompts",
    default=6,
    show_default=True,
    type=click.IntRange(min=1),
    help="Train prompts.",
)
@click.option(
    "--samples-per-prompt",
    default=4,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seeds per prompt.",
)
@click.option(
    "--train-steps",
    default=8,
    show_default=True,
    type=click.IntRange(min=0),
    help="SpatialAlign steps of a tiny Wan (0: no training).",
)
@click.option(
    "--test-samples-per-prompt",
    default=2,
    show_default=True,
    help="Seeds per test prompt (the test split that `dsr eval` reads).",
)
def demo(
    out_dir: Path,
    seed: int,
    n_prompts: int,
    samples_per_prompt: int,
    train_steps: int,
    test_samples_per_prompt: int,
) -> None:
    """Template prompts → synthetic videos (train and test) → samples and pairs → a tiny
    SpatialAlign run; prints the summary and the next commands."""
    from dsr.demo import run_demo
    from dsr.fileio import check_output_dir

    check_output_dir(out_dir)
    result = run_demo(
        out_dir,
        seed=seed,
        n_prompts=n_prompts,
        seeds_per_prompt=samples_per_prompt,
        train_steps=train_steps,
        test_seeds_per_prompt=test_samples_per_prompt,
    )
    merged = result.merged
    click.echo(f"{'split':<6} {'samples':>7} {'valid':>5} {'pairs':>5}  validity")
    for split, counts in merged.validity.items():
        reasons = ", ".join(
            f"{k.removeprefix('invalid_')}={v}"
            for k, v in counts.items()
            if k.startswith("invalid_")
        )
        kept = merged.pairs.get(split, {}).get("kept", 0)
        click.echo(
            f"{split:<6} {counts['samples']:>7} {counts['valid']:>5} {kept:>5}  "
            f"{reasons or 'all valid'}"
        )
    for split, curve in merged.curves.items():
        click.echo(
            f"\nCorrectness@τ ({split}, invalid samples count as failures):\n{curve.table()}"
        )
    click.echo(
        f"\ndataset: {result.dataset}\ncorrectness curve: {result.correctness_plot}\nSSR curves: "
        f"{result.ssr_plot}"
    )
    click.echo("\nLoad it:\n\n" + LOAD_SNIPPET.format(path=result.dataset))
    if result.training is not None:
        _training_summary(result)
    click.echo("\nNext, on this output (no weights, no network):\n")
    for comment, command in next_commands(out_dir, test_samples_per_prompt):
        click.echo(f"# {comment}\n{command}")


def next_commands(out_dir: Path, test_seeds: int) -> list[tuple[str, str]]:
    """(what it does, the command) for the report, an evaluation, a second synthetic "model" on
    the same test prompts and seeds, and the comparison of the two evaluations."""
    from dsr.demo import DEMO_VIDEO

    out = shlex.quote(str(out_dir))
    video = " ".join(f"--generator-opt {k}={v}" for k, v in DEMO_VIDEO.items())
    return [
        (
            "an HTML report of the dataset: open the printed index.html",
            f"dsr report {out}/dataset --out {out}/report",
        ),
        (
            "the paper's evaluation of the test split (--metrics dsr: drop it to add ID "
            "consistency and CLIP-IQA, which download DINOv2 and CLIP)",
            f"dsr eval {out}/dataset --metrics dsr --out {out}/eval/synthetic",
        ),
        (
            "a second 'model' on the same test prompts and seeds: one that always follows the "
            "prompt",
            f"dsr build-videos --prompts {out}/dataset --out {out}/follow --split test "
            f"--generator synthetic --generator-opt scenario=follow {video} "
            f"--tracker annotations --samples-per-prompt {test_seeds}",
        ),
        ("its evaluation", f"dsr eval {out}/follow --metrics dsr --out {out}/eval/follow"),
        (
            "the two side by side, with paired bootstrap tests",
            f"dsr eval compare {out}/eval/synthetic {out}/eval/follow --out {out}/compare",
        ),
    ]


def _training_summary(result: Any) -> None:
    training = result.training
    m = training.final_metrics
    click.echo(
        f"\nSpatialAlign on a tiny random Wan: {training.global_step} steps on "
        f"{training.data['prompts']} prompts ({training.data['winners']} winners, "
        f"{training.data['losers']} losers)"
    )
    keys = (
        "loss",
        "loss/dpo",
        "loss/zo",
        "rewards/chosen",
        "rewards/rejected",
        "rewards/accuracies",
    )
    if training.already_done:
        click.echo(
            f"  nothing to train: {result.adapter} already holds the finished adapter (delete "
            "that folder to train again)"
        )
    else:
        click.echo("  last step: " + ", ".join(f"{k} {m[k]:.4g}" for k in keys if k in m))
    out = result.adapter
    click.echo(
        f"adapter: {out / 'pytorch_lora_weights.safetensors'}\nmodel card: {out / 'README.md'}\n"
        f"training curves: {out / 'training_curves.png'}"
    )
    click.echo(
        "\nLoad it:\n\nfrom diffusers import WanPipeline\n\npipe = "
        f'WanPipeline.from_pretrained("{out / "tiny-wan"}")\npipe.load_lora_weights("{out}")'
    )
