"""Importing dsr.scoring, dsr.prompts and the score command stays light: no torch & co."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "torch",
    "diffusers",
    "transformers",
    "datasets",
    "huggingface_hub",
    "openai",
    "matplotlib",
)


def test_scoring_and_prompts_import_without_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "import dsr.scoring, dsr.prompts, dsr.scoring.tracks, dsr.cli.score\n"
        "from dsr.scoring import ssr_score, dsr_score\n"
        "from dsr.prompts import parse_prompt\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
