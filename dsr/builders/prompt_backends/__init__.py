"""Prompt backends: where candidate DSR prompts come from, behind one small Protocol.

A backend turns "how many more prompts of each DSR type" into candidate records. It never decides
what is valid: every candidate is re-parsed and checked by :mod:`dsr.builders.prompt_records`.

Backends are chosen by name from :data:`PROMPT_BACKENDS` (importing only the chosen one):

* ``template``: offline, deterministic for a seed, stdlib only (the default of ``make demo``);
* ``openai``: any OpenAI-compatible chat endpoint (GPT-4o by default), cached on disk;
* ``file``: an existing prompt list (CSV, TSV, JSONL or TXT).
"""

from __future__ import annotations

from dsr.builders.prompt_backends.base import BackendContext, Candidate, PromptBackend
from dsr.registry import Registry

__all__ = ["PROMPT_BACKENDS", "BackendContext", "Candidate", "PromptBackend"]

#: name → backend class; each class is built as ``cls(context: BackendContext)``.
PROMPT_BACKENDS = Registry(
    "prompt backend",
    {
        "template": "dsr.builders.prompt_backends.template:TemplateBackend",
        "openai": "dsr.builders.prompt_backends.openai_chat:OpenAIBackend",
        "file": "dsr.builders.prompt_backends.files:FileBackend",
    },
    option_flag=None,  # each backend option has its own flag (--model, --input, ...)
)
