"""The output folder of ``dsr eval``, drawn once::

    <out>/
    ├── eval_results.json        RESULTS: every number (with intervals), the settings and the weights used
    ├── per_sample.parquet       PER_SAMPLE: one row per sample: ids, DSR type, validity, DSR-Score and
    │                            each model metric's value (null where it does not apply)
    ├── table.md                 the paper's Table 2 layout, with 95 % intervals, and the per-type table
    ├── correctness.png          Correct@τ over τ = 0.0 … 0.9 with its bootstrap band (dsr.evaluation.plots)
    ├── per_type.png             Correct@0.7 and mean DSR-Score per DSR type, with intervals and n
    └── .dsr/eval/               WORK: never published
        ├── <metric>/settings.json           the weights and sizes its values were made with
        ├── <metric>/<sample_id>.json        one video's values, written atomically (the commit)
        ├── shard-NNNNN-of-MMMMM.lock        held by the process evaluating that shard
        └── merge.lock                       held while the outputs are written

A report reads ``per_sample.parquet`` and ``eval_results.json``; nothing under
``.dsr/`` is published.
"""  # noqa: E501

from __future__ import annotations

__all__ = [
    "CURVE_PNG",
    "MERGE_LOCK",
    "PER_SAMPLE",
    "RESULTS",
    "SETTINGS",
    "SHARD_LOCK",
    "TABLE",
    "TYPES_PNG",
    "WORK",
]

RESULTS = "eval_results.json"
PER_SAMPLE = "per_sample.parquet"
TABLE = "table.md"
CURVE_PNG = "correctness.png"
TYPES_PNG = "per_type.png"
WORK = ".dsr/eval"
SETTINGS = "settings.json"
SHARD_LOCK = "shard-{index:05d}-of-{count:05d}.lock"
MERGE_LOCK = "merge.lock"
