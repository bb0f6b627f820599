"""``dsr demo``: the whole embedded pipeline on the CPU, no weights and no network needed."""

from __future__ import annotations

from pathlib import Path

import click

LOAD_SNIPPET = """from datasets import load_dataset

samples = load_dataset("{path}", "samples", split="train")
pairs = load_dataset("{path}", "pairs", split="train")
print(samples[0]["sample_id"], samples[0]["dsr_score"], samples[0]["reason"])
video = samples[0]["video"]          # a torchcodec VideoDecoder
print(pairs[0]["chosen"], pairs[0]["rejected"])"""


@click.command()
@click.option("--out", "out_dir", default="demo_output", show_default=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=0, show_default=True, help="Seed of the template prompts.")
@click.option("--prompts", "n_prompts", default=6, show_default=True, help="Train prompts.")
@click.option("--samples-per-prompt", default=4, show_default=True, help="Seeds per prompt.")
def demo(out_dir: Path, seed: int, n_prompts: int, samples_per_prompt: int) -> None:
    """Template prompts → synthetic videos → samples and pairs; prints the summary."""
    from dsr.demo import run_demo

    result = run_demo(out_dir, seed=seed, n_prompts=n_prompts, seeds_per_prompt=samples_per_prompt)
    merged = result.merged
    click.echo(f"{'split':<6} {'samples':>7} {'valid':>5} {'pairs':>5}  validity")
    for split, counts in merged.validity.items():
        reasons = ", ".join(f"{k.removeprefix('invalid_')}={v}" for k, v in counts.items() if k.startswith("invalid_"))
        kept = merged.pairs.get(split, {}).get("kept", 0)
        click.echo(f"{split:<6} {counts['samples']:>7} {counts['valid']:>5} {kept:>5}  {reasons or 'all valid'}")
    for split, curve in merged.curves.items():
        click.echo(f"\nCorrectness@τ ({split}, invalid samples count as failures):\n{curve.table()}")
    click.echo(f"\ndataset: {result.dataset}\ncorrectness curve: {result.correctness_plot}\nSSR curves: {result.ssr_plot}")
    click.echo("\nLoad it:\n\n" + LOAD_SNIPPET.format(path=result.dataset))
