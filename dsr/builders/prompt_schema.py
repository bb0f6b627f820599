"""The schema of the ``prompts`` config: its name, its columns (with the help text shown in the
card) and the row of one accepted prompt. The one place these are defined: the build, its card
section and the readers all take them from here."""

from __future__ import annotations

from dsr.builders.prompt_records import Accepted

__all__ = ["PROMPTS_CONFIG", "PROMPT_COLUMNS", "prompt_row"]

PROMPTS_CONFIG = "prompts"

#: The columns of the ``prompts`` config (all strings), with the help text shown in the card.
PROMPT_COLUMNS: dict[str, str] = {
    "prompt_id": "Stable id from the normalized canonical sentence: `<type>-<sha1[:10]>`.",
    "prompt": (
        "The canonical sentence: `<scene>, a <animal> is on the <initial> of a <object>, then the "
        "<animal> <verb> to the <final> of the <object>.`"
    ),
    "scene": "Short place description (may be empty).",
    "animal": "The moving animal.",
    "object": "The static object.",
    "initial": "Initial relation of the animal to the object: left, right or top.",
    "final": "Final relation: left, right or top (differs from initial).",
    "dsr_type": "DSR type code: LT, TL, RT, LR, TR or RL.",
    "dsr_letter": "The paper's letter of the DSR type, A–F (LT=A … RL=F).",
    "verb": "Motion verb that fits the animal (third person).",
    "split": "train or test.",
    "source": "What produced the prompt: `template`, `openai:<model>` or `file:<name>`.",
    "source_id": "The prompt's own id in an imported list (a `source_id`, `prompt_id` or `id` "
    "column of a `--backend file` input, e.g. the authors' `1043_TL`); null otherwise. `dsr "
    "score-videos` matches video files named after it (`1043_TL_F81_seed00.mp4`).",
}


def prompt_row(entry: Accepted, split: str) -> dict[str, str | None]:
    """One row of the ``prompts`` config, in :data:`PROMPT_COLUMNS` order."""
    p, t = entry.prompt, entry.prompt.dsr_type
    return {
        "prompt_id": p.stable_id(),
        "prompt": p.render(),
        "scene": p.scene,
        "animal": p.animal,
        "object": p.object,
        "initial": p.initial.value,
        "final": p.final.value,
        "dsr_type": t.code,
        "dsr_letter": t.letter or None,  # null beyond the paper's six types
        "verb": p.verb,
        "split": split,
        "source": entry.source,
        "source_id": entry.source_id,
    }
