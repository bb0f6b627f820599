"""The card section and build record of the ``prompts`` config."""

from __future__ import annotations

from dsr.builders.folder import ConfigRecord
from dsr.builders.prompt_config import PromptBuildConfig, PromptBuildResult
from dsr.builders.prompt_schema import PROMPT_COLUMNS
from dsr.prompts import DSRType

__all__ = ["config_record"]

DESCRIPTION = (
    "DSR prompts: one animal, one static object, an initial and a final spatial relation (left, "
    "right, top). Every prompt was re-parsed with `dsr.prompts.parse_prompt`, checked against the "
    "fields its generator declared and de-duplicated; train and test are balanced over the six "
    "DSR types and disjoint by sentence{triple}."
)


def _counts_table(counts: dict[str, dict[str, int]]) -> str:
    splits = list(counts)
    lines = [
        "| DSR type | letter | " + " | ".join(splits) + " |",
        "|---|---|" + "---|" * len(splits),
    ]
    for t in DSRType:
        cells = " | ".join(str(counts[s].get(t.code, 0)) for s in splits)
        lines.append(f"| {t.initial.value}→{t.final.value} (`{t.code}`) | {t.letter} | {cells} |")
    totals = " | ".join(str(sum(counts[s].values())) for s in splits)
    lines.append(f"| **total** | | {totals} |")
    return "\n".join(lines)


def _rejects_table(rejects: dict[str, int], reasons: dict[str, str]) -> str:
    if not rejects:
        return "No candidate was rejected."
    rows = "\n".join(f"| `{r}` | {n} | {reasons.get(r, '')} |" for r, n in rejects.items())
    return (
        "Rejected candidates (each one is listed with its reason and origin in "
        f"`assets/prompt_rejects.jsonl`):\n\n| reason | count | meaning |\n|---|---|---|\n{rows}"
    )


def config_record(
    config: PromptBuildConfig, result: PromptBuildResult, source: str, reasons: dict[str, str]
) -> ConfigRecord:
    """The ConfigRecord (card section + build record) of a finished prompts build."""
    triple = " and by (animal, object, scene)" if config.disjoint == "triple" else ""
    shortfall = (
        f"\n\n**Shortfall**: the backend could not fill every type: missing {result.shortfall}."
        if result.shortfall
        else ""
    )
    markdown = (
        f"**Prompts per DSR type** (source: `{source}`, seed {config.seed}):\n\n"
        f"{_counts_table(result.counts)}\n\n{_rejects_table(result.rejects, reasons)}{shortfall}"
    )
    return ConfigRecord(
        description=DESCRIPTION.format(triple=triple),
        columns=dict(PROMPT_COLUMNS),
        counts={
            "per_type": result.counts,
            "rejects": result.rejects,
            "shortfall": result.shortfall,
            "rounds": result.rounds,
            "source": source,
        },
        command=config.command,
        settings=config.settings(),
        card_markdown=markdown,
    )
