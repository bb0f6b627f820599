"""``dsr demo``: the embedded default job, no weights and no network needed."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.option("--out", "out_dir", default="demo_output", show_default=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=0, show_default=True)
def demo(out_dir: Path, seed: int) -> None:
    """Run the embedded demo and print its correctness curve."""
    from dsr.demo import run_demo
    from dsr.scoring import correctness

    paths = run_demo(out_dir, seed=seed)
    rows = [json.loads(line) for line in paths["scores"].read_text().splitlines()]
    click.echo(f"{len(rows)} example samples scored")
    for row in rows:
        score = "invalid" if row["dsr_score"] is None else f"{row['dsr_score']:.3f}"
        click.echo(f"  {row['sample_id']:<14} {score}")
    click.echo(correctness([r["dsr_score"] for r in rows]).table())
    for name, path in paths.items():
        click.echo(f"{name}: {path}")
