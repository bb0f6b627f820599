"""``dsr build-prompts``: synthesize the DSR prompts and write (and optionally push) the dataset."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from dsr.cli._options import preflight_push_options, push_from_options, push_options

#: ``--force`` of build-prompts also replaces prompts that other configs depend on.
FORCE_HELP = ("Replace prompts that the folder's samples/pairs (or unmerged samples) still name, and move "
              "an existing version tag on the Hub.")


def _backend_options(backend: str, **given: Any) -> dict[str, Any]:
    """Only the options of the chosen backend, and only those the user set."""
    if backend == "openai":
        names = ("model", "base_url", "per_request", "concurrency", "timeout", "max_retries", "structured")
        return {n: given[n] for n in names if given[n] is not None}
    if backend == "file":
        return {"path": str(given["input_path"])} if given["input_path"] else {}
    return {}


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Dataset folder (created if needed).")
@click.option("--backend", type=click.Choice(["template", "openai", "file"]), default="template", show_default=True, help="Where the prompts come from.")
@click.option("--n-train", default=500, show_default=True, help="Train prompts (balanced over the six DSR types).")
@click.option("--n-test", default=120, show_default=True, help="Test prompts (balanced over the six DSR types).")
@click.option("--seed", default=0, show_default=True, help="Seed of generation and split selection.")
@click.option("--disjoint", type=click.Choice(["triple", "sentence"]), default="triple", show_default=True, help="Keep train/test apart by (animal, object, scene) or only by sentence.")
@click.option("--strict", is_flag=True, help="Write nothing if any input is bad.")
@click.option("--max-rounds", default=5, show_default=True, help="Generation rounds to fill the splits.")
@click.option("--model", default=None, help="[openai] Chat model (default gpt-4o).")
@click.option("--base-url", default=None, help="[openai] OpenAI-compatible endpoint (vLLM, Ollama, TGI). Key: $OPENAI_API_KEY.")
@click.option("--per-request", type=int, default=None, help="[openai] Prompts asked for per request (default 10).")
@click.option("--concurrency", type=int, default=None, help="[openai] Requests in flight (default 4).")
@click.option("--timeout", type=float, default=None, help="[openai] Seconds per request (default 60).")
@click.option("--max-retries", type=int, default=None, help="[openai] Retries on 429/5xx/timeouts (default 4).")
@click.option("--structured/--json-mode", "structured", default=None, help="[openai] JSON schema output (default) or plain JSON mode.")
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help="[file] Prompt list: .csv, .tsv, .jsonl or .txt.")
@push_options(FORCE_HELP)
def build_prompts(out: Path, backend: str, n_train: int, n_test: int, seed: int, disjoint: str, strict: bool,
                  max_rounds: int, **kw: Any) -> None:
    """Build the `prompts` config (train/test DSR prompts) of a dataset folder."""
    from dsr.builders.prompts import PromptBuildConfig
    from dsr.builders.prompts import build_prompts as run
    from dsr.cards import sanitize_command
    from dsr.fileio import check_output_dir

    check_output_dir(out)
    # fail before a build that may take long or cost API calls, not after it
    preflight_push_options(kw, need_version=False, force_needs_push=False)
    config = PromptBuildConfig(
        out=out, backend=backend, n_train=n_train, n_test=n_test, seed=seed, disjoint=disjoint,
        strict=strict, max_rounds=max_rounds, backend_options=_backend_options(backend, **kw),
        replace=kw["force"], command=sanitize_command(["dsr", *sys.argv[1:]]),
    )
    result = run(config)
    for split, counts in result.counts.items():
        click.echo(f"{split}: {sum(counts.values())} prompts " + " ".join(f"{c}={n}" for c, n in counts.items()))
    if result.rejects:
        click.echo("rejected: " + ", ".join(f"{r}={n}" for r, n in result.rejects.items()) + f" (see {result.rejects_file})")
    if result.shortfall:
        click.echo(f"Warning: could not fill every type, missing {result.shortfall}", err=True)
    click.echo(f"wrote {out}")
    if kw["push_repo"]:
        push_from_options(kw, out, config_names=["prompts"])
