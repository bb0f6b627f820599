"""``build-prompts``: synthesize, validate, balance and write the ``prompts`` config of a dataset.

Flow: a backend proposes candidates (:mod:`dsr.builders.prompt_backends`) → each is re-parsed and
checked (:mod:`dsr.builders.prompt_records`) → balanced disjoint splits are picked
(:mod:`dsr.builders.prompt_splits`); rounds repeat with the shortfall until the splits are full →
prompts that the folder's other configs still name must survive, unless ``replace``
(:mod:`dsr.builders.prompt_dependents`) → parquet files, card and build record are written through
:class:`DatasetFolder`, rejects to ``assets/prompt_rejects.jsonl``.

The settings and the result are defined in :mod:`dsr.builders.prompt_config`, the columns in
:mod:`dsr.builders.prompt_schema` and the card section in :mod:`dsr.builders.prompt_card`; the names
are re-exported here.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

from dsr.builders.folder import ConfigRecord, DatasetFolder
from dsr.builders.prompt_backends import PROMPT_BACKENDS, BackendContext
from dsr.builders.prompt_card import config_record
from dsr.builders.prompt_config import PromptBuildConfig, PromptBuildResult
from dsr.builders.prompt_dependents import check_replaceable
from dsr.builders.prompt_records import REJECT_REASONS, PromptPool, Reject
from dsr.builders.prompt_schema import PROMPT_COLUMNS, PROMPTS_CONFIG, prompt_row
from dsr.builders.prompt_splits import Selection, quotas, select_splits
from dsr.errors import DataError
from dsr.layout import ASSETS_DIR, WORK_DIR, atomic_write_text
from dsr.locks import exclusive_lock

__all__ = [
    "PROMPT_COLUMNS",
    "PROMPTS_CONFIG",
    "PromptBuildConfig",
    "PromptBuildResult",
    "build_prompts",
]

log = logging.getLogger(__name__)

REJECTS_FILE = f"{ASSETS_DIR}/prompt_rejects.jsonl"
#: Rejects that mean bad input; ``strict`` refuses to write anything when there is one.
BAD_INPUT = ("bad_row", "bad_response", "parse_error", "field_mismatch")


def _backend(config: PromptBuildConfig, folder: DatasetFolder) -> Any:
    cls = PROMPT_BACKENDS.resolve(config.backend)
    # the cache folder is created on the first response: a bad input leaves no folder behind
    context = BackendContext(
        config.seed, folder.root / WORK_DIR / PROMPTS_CONFIG / "llm_cache", config.backend_options
    )
    return cls(context)


def _generate(config: PromptBuildConfig, backend: Any, pool: PromptPool) -> tuple[Selection, int]:
    types = config.types
    train_q, test_q = quotas(config.n_train, types), quotas(config.n_test, types)
    wanted = {t: train_q[t] + test_q[t] for t in types}
    for round_index in range(config.max_rounds):
        outcomes = [pool.add(candidate) for candidate in backend.generate(wanted, round_index)]
        selection = select_splits(
            pool.accepted, config.n_train, config.n_test, config.seed, config.disjoint, types
        )
        if selection.complete or backend.exhaustive:
            return selection, round_index + 1
        if outcomes and all(
            isinstance(o, Reject) and o.reason == "request_failed" for o in outcomes
        ):
            log.warning(
                "round %d: every request failed after its retries; not asking again",
                round_index + 1,
            )
            return selection, round_index + 1
        wanted = {t: n for t, n in selection.shortfall.items() if n}
        log.info(
            "round %d: still missing %s", round_index + 1, {t.code: n for t, n in wanted.items()}
        )
    return selection, config.max_rounds


def _rows(selection: Selection) -> dict[str, list[dict[str, str | None]]]:
    out = {}
    for split, entries in (("train", selection.train), ("test", selection.test)):
        ordered = sorted(entries, key=lambda e: e.prompt.dsr_type.order)  # stable: keeps draw order
        out[split] = [prompt_row(e, split) for e in ordered]
    return out


def _check_strict(config: PromptBuildConfig, rejects: list[Reject]) -> None:
    bad = [r for r in rejects if r.reason in BAD_INPUT]
    if config.strict and bad:
        lines = "; ".join(f"{r.origin}: {r.reason}: {r.message}" for r in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise DataError(f"--strict: {len(bad)} bad input(s), nothing written: {lines}{more}")


def _check_not_empty(selection: Selection, pool: PromptPool, source: str) -> None:
    """Refuse to write a config without a single row: its card entry would break
    ``load_dataset``."""
    if selection.train or selection.test:
        return
    counts = ", ".join(f"{r}={n}" for r, n in pool.reject_counts().items()) or "none"
    first = pool.rejects[0] if pool.rejects else None
    example = f"; first: {first.origin}: {first.reason}: {first.message}" if first else ""
    raise DataError(
        f"no prompt from {source} was accepted (rejected: {counts}){example}; nothing written: "
        "fix the input (file), the endpoint or model (openai), or choose another backend"
    )


def _log_unused(
    config: PromptBuildConfig, selection: Selection, pool: PromptPool, source: str
) -> None:
    """An imported list: say that some of its valid rows were left out, and why."""
    wanted = set(config.types)
    other = Counter(
        e.prompt.dsr_type.code for e in pool.accepted if e.prompt.dsr_type not in wanted
    )
    if other:
        log.warning(
            "%d valid prompts of %s have DSR types this build does not balance (%s): name their "
            "relations in --relations (now %s)%s",
            sum(other.values()),
            source,
            ", ".join(sorted(other)),
            config.relations,
            "" if config.three_stage else ", or build three-stage types with --three-stage",
        )
    unused = len(pool.accepted) - len(selection.train) - len(selection.test) - sum(other.values())
    if unused:
        log.warning(
            "%d valid prompts of %s were not used: the split quotas (--n-train %d, --n-test %d) "
            "were full, or their (animal, object, scene) was already in test",
            unused,
            source,
            config.n_train,
            config.n_test,
        )


def _log_rejects(rejects: list[Reject], limit: int = 20) -> None:
    bad = [r for r in rejects if r.reason in BAD_INPUT]
    for r in bad[:limit]:
        log.warning("rejected %s: %s: %s", r.origin, r.reason, r.message)
    if len(bad) > limit:
        log.warning("... and %d more rejects, see the rejects file", len(bad) - limit)


def _write(
    config: PromptBuildConfig,
    folder: DatasetFolder,
    rows: dict[str, list[dict[str, str | None]]],
    record: ConfigRecord,
) -> None:
    import datasets

    features = datasets.Features({c: datasets.Value("string") for c in PROMPT_COLUMNS})
    splits = {s: datasets.Dataset.from_list(r, features=features) for s, r in rows.items() if r}
    folder.write_config(PROMPTS_CONFIG, splits, record)


def build_prompts(config: PromptBuildConfig) -> PromptBuildResult:
    """Build the ``prompts`` config of ``config.out``; see the module docstring. One build of a
    folder's prompts at a time: a second one raises :class:`BusyError` at once."""
    folder = DatasetFolder(config.out)
    with exclusive_lock(
        folder.work_dir(PROMPTS_CONFIG) / "build.lock", f"the prompts of {folder.root}"
    ):
        return _build(config, folder)


def _build(config: PromptBuildConfig, folder: DatasetFolder) -> PromptBuildResult:
    backend = _backend(config, folder)
    pool = PromptPool()
    selection, rounds = _generate(config, backend, pool)
    _check_strict(config, pool.rejects)
    _log_rejects(pool.rejects)
    _check_not_empty(selection, pool, backend.source())
    if backend.exhaustive:
        _log_unused(config, selection, pool, backend.source())
    if not selection.complete:
        log.warning(
            "could not fill the splits, missing per type: %s",
            {t.code: n for t, n in selection.shortfall.items() if n},
        )
    rows = _rows(selection)
    check_replaceable(
        folder,
        {(s, str(r["prompt_id"])) for s, rs in rows.items() for r in rs},
        force=config.replace,
    )
    counts = {
        s: {t.code: Counter(r["dsr_type"] for r in rs)[t.code] for t in config.types}
        for s, rs in rows.items()
    }
    rejects_text = "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in pool.rejects)
    rejects_file = atomic_write_text(folder.root / REJECTS_FILE, rejects_text)
    result = PromptBuildResult(
        config.out,
        counts,
        pool.reject_counts(),
        {t.code: n for t, n in selection.shortfall.items() if n},
        rounds,
        rejects_file,
    )
    record = config_record(config, result, backend.source(), REJECT_REASONS)
    _write(config, folder, rows, record)
    return result
