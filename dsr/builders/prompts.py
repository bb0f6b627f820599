"""``build-prompts``: synthesize, validate, balance and write the ``prompts`` config of a dataset.

Flow: a backend proposes candidates (:mod:`dsr.builders.prompt_backends`) → each is re-parsed and
checked (:mod:`dsr.builders.prompt_records`) → balanced disjoint splits are picked
(:mod:`dsr.builders.prompt_splits`); rounds repeat with the shortfall until the splits are full →
prompts that the folder's other configs still name must survive, unless ``replace``
(:mod:`dsr.builders.prompt_dependents`) → parquet files, card and build record are written through
:class:`DatasetFolder`, rejects to ``assets/prompt_rejects.jsonl``.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dsr.builders.folder import ASSETS_DIR, WORK_DIR, ConfigRecord, DatasetFolder, atomic_write_text
from dsr.builders.prompt_backends import PROMPT_BACKENDS, BackendContext
from dsr.builders.prompt_dependents import check_replaceable
from dsr.builders.prompt_records import REJECT_REASONS, Accepted, PromptPool, Reject
from dsr.builders.prompt_splits import DISJOINT_MODES, Selection, quotas, select_splits
from dsr.errors import ConfigError, DataError
from dsr.limits import MAX_PROMPTS_PER_SPLIT, check_max
from dsr.locks import exclusive_lock
from dsr.prompts import DSRType

__all__ = ["PROMPT_COLUMNS", "PROMPTS_CONFIG", "PromptBuildConfig", "PromptBuildResult", "build_prompts"]

log = logging.getLogger(__name__)

PROMPTS_CONFIG = "prompts"
REJECTS_FILE = f"{ASSETS_DIR}/prompt_rejects.jsonl"
#: Rejects that mean bad input; ``strict`` refuses to write anything when there is one.
BAD_INPUT = ("bad_row", "bad_response", "parse_error", "field_mismatch")

#: Environment variables whose values must never reach a written file.
SECRET_ENV = ("OPENAI_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")

#: The columns of the ``prompts`` config (all strings), with the help text shown in the card.
PROMPT_COLUMNS: dict[str, str] = {
    "prompt_id": "Stable id from the normalized canonical sentence: `<type>-<sha1[:10]>`.",
    "prompt": "The canonical sentence: `<scene>, a <animal> is on the <initial> of a <object>, then the <animal> <verb> to the <final> of the <object>.`",
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
    "source_id": "The prompt's own id in an imported list (a `source_id`, `prompt_id` or `id` column of a "
                 "`--backend file` input, e.g. the authors' `1043_TL`); null otherwise. `dsr score-videos` matches "
                 "video files named after it (`1043_TL_F81_seed00.mp4`).",
}


@dataclass
class PromptBuildConfig:
    """Settings of ``dsr build-prompts``."""

    out: Path = field(metadata={"help": "Dataset folder to write the `prompts` config into."})
    backend: str = field(default="template", metadata={"help": "Prompt source: template, openai or file."})
    n_train: int = field(default=500, metadata={"help": "Train prompts, balanced over the six DSR types."})
    n_test: int = field(default=120, metadata={"help": "Test prompts, balanced over the six DSR types."})
    seed: int = field(default=0, metadata={"help": "Seed of generation and split selection."})
    disjoint: str = field(default="triple", metadata={"help": "Train/test disjoint by `triple` (animal, object, scene) or only by `sentence`."})
    strict: bool = field(default=False, metadata={"help": "Write nothing if any input is bad (unparseable, mismatched, broken row)."})
    max_rounds: int = field(default=5, metadata={"help": "Generation rounds to fill the splits before giving up on the shortfall."})
    backend_options: dict[str, Any] = field(default_factory=dict, metadata={"help": "Options of the chosen backend's config (e.g. model, base_url, path)."})
    replace: bool = field(default=False, metadata={"help": "Replace prompts that other configs of the folder (samples, pairs, unmerged samples) still name; refused otherwise."})
    command: str = field(default="", metadata={"help": "Sanitized command line recorded in the card."})

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if self.backend not in PROMPT_BACKENDS.names():
            raise ConfigError(f"backend={self.backend!r}: choose one of {', '.join(PROMPT_BACKENDS.names())}")
        for name in ("n_train", "n_test"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name}={getattr(self, name)}: must be 0 or more")
            check_max(name, getattr(self, name), MAX_PROMPTS_PER_SPLIT, "the paper uses 500 train, 120 test")
        if self.n_train + self.n_test == 0:
            raise ConfigError("n_train and n_test are both 0: ask for at least one prompt")
        if self.disjoint not in DISJOINT_MODES:
            raise ConfigError(f"disjoint={self.disjoint!r}: choose one of {', '.join(DISJOINT_MODES)}")
        if self.max_rounds < 1:
            raise ConfigError(f"max_rounds={self.max_rounds}: must be at least 1")
        PROMPT_BACKENDS.resolve(self.backend).config_class(**self.backend_options)  # validates
        self.command = _safe_command(self.command)

    def settings(self) -> dict[str, Any]:
        data = asdict(self)
        data["out"] = str(self.out)
        data.pop("command")
        data.pop("replace")
        return data


def _safe_command(command: str) -> str:
    """Mask secrets in a command line even when a caller did not sanitize it (defence in depth)."""
    from dsr.cards import sanitize_command

    try:
        safe = sanitize_command(shlex.split(command)) if command else ""
    except ValueError:  # unbalanced quotes: mask what looks like a secret in the raw text
        safe = sanitize_command([command])
    for name in SECRET_ENV:
        value = os.environ.get(name)
        if value and len(value) >= 8:
            safe = safe.replace(value, "***")
    return safe


@dataclass(frozen=True)
class PromptBuildResult:
    """What a build produced."""

    out: Path
    counts: dict[str, dict[str, int]]  # split → DSR type code → rows
    rejects: dict[str, int]  # reason → count
    shortfall: dict[str, int]  # DSR type code → prompts still missing
    rounds: int
    rejects_file: Path

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())


def _backend(config: PromptBuildConfig, folder: DatasetFolder) -> Any:
    cls = PROMPT_BACKENDS.resolve(config.backend)
    # the cache folder is created on the first response: a bad input leaves no folder behind
    context = BackendContext(config.seed, folder.root / WORK_DIR / PROMPTS_CONFIG / "llm_cache", config.backend_options)
    return cls(context)


def _generate(config: PromptBuildConfig, backend: Any, pool: PromptPool) -> tuple[Selection, int]:
    train_q, test_q = quotas(config.n_train), quotas(config.n_test)
    wanted = {t: train_q[t] + test_q[t] for t in DSRType}
    for round_index in range(config.max_rounds):
        outcomes = [pool.add(candidate) for candidate in backend.generate(wanted, round_index)]
        selection = select_splits(pool.accepted, config.n_train, config.n_test, config.seed, config.disjoint)
        if selection.complete or backend.exhaustive:
            return selection, round_index + 1
        if outcomes and all(isinstance(o, Reject) and o.reason == "request_failed" for o in outcomes):
            log.warning("round %d: every request failed after its retries; not asking again", round_index + 1)
            return selection, round_index + 1
        wanted = {t: n for t, n in selection.shortfall.items() if n}
        log.info("round %d: still missing %s", round_index + 1, {t.code: n for t, n in wanted.items()})
    return selection, config.max_rounds


def prompt_row(entry: Accepted, split: str) -> dict[str, str | None]:
    """One row of the ``prompts`` config, in :data:`PROMPT_COLUMNS` order."""
    p, t = entry.prompt, entry.prompt.dsr_type
    return {
        "prompt_id": p.stable_id(), "prompt": p.render(), "scene": p.scene, "animal": p.animal,
        "object": p.object, "initial": p.initial.value, "final": p.final.value, "dsr_type": t.code,
        "dsr_letter": t.letter, "verb": p.verb, "split": split, "source": entry.source,
        "source_id": entry.source_id,
    }


def _rows(selection: Selection) -> dict[str, list[dict[str, str | None]]]:
    out = {}
    for split, entries in (("train", selection.train), ("test", selection.test)):
        ordered = sorted(entries, key=lambda e: e.prompt.dsr_type.letter)  # stable: keeps draw order
        out[split] = [prompt_row(e, split) for e in ordered]
    return out


def _check_strict(config: PromptBuildConfig, rejects: list[Reject]) -> None:
    bad = [r for r in rejects if r.reason in BAD_INPUT]
    if config.strict and bad:
        lines = "; ".join(f"{r.origin}: {r.reason}: {r.message}" for r in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise DataError(f"--strict: {len(bad)} bad input(s), nothing written: {lines}{more}")


def _check_not_empty(selection: Selection, pool: PromptPool, source: str) -> None:
    """Refuse to write a config without a single row: its card entry would break ``load_dataset``."""
    if selection.train or selection.test:
        return
    counts = ", ".join(f"{r}={n}" for r, n in pool.reject_counts().items()) or "none"
    first = pool.rejects[0] if pool.rejects else None
    example = f"; first: {first.origin}: {first.reason}: {first.message}" if first else ""
    raise DataError(f"no prompt from {source} was accepted (rejected: {counts}){example}; nothing written: "
                    "fix the input (file), the endpoint or model (openai), or choose another backend")


def _log_unused(config: PromptBuildConfig, selection: Selection, pool: PromptPool, source: str) -> None:
    """An imported list: say that some of its valid rows were left out, and why."""
    unused = len(pool.accepted) - len(selection.train) - len(selection.test)
    if unused:
        log.warning("%d valid prompts of %s were not used: the split quotas (--n-train %d, --n-test %d) "
                    "were full, or their (animal, object, scene) was already in test", unused, source,
                    config.n_train, config.n_test)


def _log_rejects(rejects: list[Reject], limit: int = 20) -> None:
    bad = [r for r in rejects if r.reason in BAD_INPUT]
    for r in bad[:limit]:
        log.warning("rejected %s: %s: %s", r.origin, r.reason, r.message)
    if len(bad) > limit:
        log.warning("... and %d more rejects, see the rejects file", len(bad) - limit)


def _write(config: PromptBuildConfig, folder: DatasetFolder, rows: dict[str, list[dict[str, str | None]]],
           record: ConfigRecord) -> None:
    import datasets

    features = datasets.Features({c: datasets.Value("string") for c in PROMPT_COLUMNS})
    splits = {s: datasets.Dataset.from_list(r, features=features) for s, r in rows.items() if r}
    folder.write_config(PROMPTS_CONFIG, splits, record)


def build_prompts(config: PromptBuildConfig) -> PromptBuildResult:
    """Build the ``prompts`` config of ``config.out``; see the module docstring. One build of a
    folder's prompts at a time: a second one raises :class:`BusyError` at once."""
    folder = DatasetFolder(config.out)
    with exclusive_lock(folder.work_dir(PROMPTS_CONFIG) / "build.lock", f"the prompts of {folder.root}"):
        return _build(config, folder)


def _build(config: PromptBuildConfig, folder: DatasetFolder) -> PromptBuildResult:
    from dsr.builders.prompt_card import config_record

    backend = _backend(config, folder)
    pool = PromptPool()
    selection, rounds = _generate(config, backend, pool)
    _check_strict(config, pool.rejects)
    _log_rejects(pool.rejects)
    _check_not_empty(selection, pool, backend.source())
    if backend.exhaustive:
        _log_unused(config, selection, pool, backend.source())
    if not selection.complete:
        log.warning("could not fill the splits, missing per type: %s",
                    {t.code: n for t, n in selection.shortfall.items() if n})
    rows = _rows(selection)
    check_replaceable(folder, {(s, r["prompt_id"]) for s, rs in rows.items() for r in rs}, force=config.replace)
    counts = {s: {t.code: Counter(r["dsr_type"] for r in rs)[t.code] for t in DSRType} for s, rs in rows.items()}
    rejects_text = "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in pool.rejects)
    rejects_file = atomic_write_text(folder.root / REJECTS_FILE, rejects_text)
    result = PromptBuildResult(config.out, counts, pool.reject_counts(),
                               {t.code: n for t, n in selection.shortfall.items() if n}, rounds, rejects_file)
    record = config_record(config, result, backend.source(), REJECT_REASONS)
    _write(config, folder, rows, record)
    return result
