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
#: Column help where a build goes beyond the paper's relations (docs/method.md §8).
_EXTENDED_COLUMNS = {
    "prompt": "The canonical sentence (docs/method.md §1, §8 for the other relations and stages).",
    "initial": "Initial relation of the animal to the object: left, right, top, under, front or "
    "behind.",
    "final": "Final relation (differs from the one before it).",
    "dsr_type": "DSR type code: the relations' letters (L, R, T, U, F, B), e.g. LT or UF; three "
    "letters for a three-stage type.",
    "dsr_letter": "The paper's letter of the DSR type, A–F (LT=A … RL=F); null for other types.",
}


def _description(config: PromptBuildConfig, triple: str) -> str:
    types = config.types
    if types == tuple(DSRType):
        return DESCRIPTION.format(triple=triple)
    stages = "an initial, a middle and a final" if config.three_stage else "an initial and a final"
    return (
        DESCRIPTION.format(triple=triple)
        .replace("an initial and a final", stages)
        .replace("(left, right, top)", f"({config.relations.replace(',', ', ')})")
        .replace("the six DSR types", f"the {len(types)} DSR types")
    )


def _counts_table(counts: dict[str, dict[str, int]], types: tuple[DSRType, ...]) -> str:
    splits = list(counts)
    lines = [
        "| DSR type | letter | " + " | ".join(splits) + " |",
        "|---|---|" + "---|" * len(splits),
    ]
    for t in types:
        cells = " | ".join(str(counts[s].get(t.code, 0)) for s in splits)
        lines.append(f"| {'→'.join(t.value)} (`{t.code}`) | {t.letter or ''} | {cells} |")
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
        f"{_counts_table(result.counts, config.types)}\n\n"
        f"{_rejects_table(result.rejects, reasons)}{shortfall}"
    )
    return ConfigRecord(
        description=_description(config, triple),
        columns=dict(PROMPT_COLUMNS)
        if config.types == tuple(DSRType)
        else {**PROMPT_COLUMNS, **_EXTENDED_COLUMNS},
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
