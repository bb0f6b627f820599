"""`dsr train` checks every option and input before importing torch, transformers or diffusers and
before building any model: a mistake costs a second, not the 10-20 s of those imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Runs each argument list through the CLI in one process, then reports which heavy modules that
#: process imported.
SCRIPT = """
import json, sys
from click.testing import CliRunner
from dsr.cli import main

runs = []
for args in json.loads(sys.argv[1]):
    result = CliRunner().invoke(main, ["train", *args])
    runs.append([result.exit_code, result.stderr.strip()])
heavy = [m for m in ("torch", "transformers", "diffusers", "accelerate") if m in sys.modules]
print(json.dumps({"runs": runs, "heavy": heavy}))
"""


def _train(*arg_lists: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(arg_lists)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout.splitlines()[-1]))


def test_bad_options_and_inputs_fail_before_torch_is_imported(tmp_path: Path) -> None:
    from dsr.builders.prompts import PromptBuildConfig, build_prompts

    prompts_only = tmp_path / "prompts-only"
    build_prompts(PromptBuildConfig(out=prompts_only, backend="template", n_train=6, n_test=6))
    out = str(tmp_path / "run")
    result = _train(
        # valid TrainingArguments options pass the early check: the dataset is what is missing
        ["--output-dir", out, "--save-total-limit", "3", "--seed", "0", "--report-to", "none"],
        ["--output-dir", out, "--dataset", str(prompts_only), "--no-such-option", "1"],
        ["--output-dir", out, "--dataset", str(prompts_only), "--save-total-limit", "three"],
        ["--output-dir", out, "--dataset", str(prompts_only), "--reg", "zo", "--beta", "-1"],
        ["--output-dir", out, "--dataset", str(prompts_only), "--tiny"],
        ["--dataset", str(prompts_only), "--tiny"],
    )
    runs = result["runs"]
    assert [code for code, _ in runs] == [1] * 6
    assert all(len(err.splitlines()) == 1 and err.startswith("Error: ") for _, err in runs), runs
    assert "no dataset: give --dataset" in runs[0][1]
    assert "unknown option --no-such-option" in runs[1][1]
    assert "--save-total-limit 'three': expected int" in runs[2][1]
    assert "beta=-1.0: must be > 0" in runs[3][1]
    assert "has no `samples` config" in runs[4][1]  # --tiny without pairs: no model built
    assert "--output-dir is not set" in runs[5][1]
    assert result["heavy"] == []
    assert not (tmp_path / "run" / "tiny-wan").exists()
