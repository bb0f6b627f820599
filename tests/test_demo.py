"""`dsr demo` builds a train and a test split, ends with the next commands, and those commands
work on its output; a re-run has nothing to train. The Trainer's logs print as aligned lines."""

from __future__ import annotations

import shlex
from pathlib import Path

from click.testing import CliRunner

from dsr.cli import main
from dsr.training.log_lines import format_log_line


def _demo(out: Path) -> str:
    result = CliRunner().invoke(
        main,
        ["demo", "--out", str(out), "--samples-per-prompt", "2", "--train-steps", "2"],
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_the_demo_prints_next_commands_that_work_on_its_output(tmp_path: Path) -> None:
    out = tmp_path / "demo out"  # a space: the printed commands must quote it
    output = _demo(out)
    assert "\ntest        12 " in output  # 6 test prompts x 2 seeds, beside train
    assert "Correctness@τ" in output and 'load_dataset("' in output
    assets = out / "dataset" / "assets"
    assert (assets / "samples_correctness.png").exists() and list(assets.glob("ssr_*.png"))
    commands = [line for line in output.splitlines() if line.startswith("dsr ")]
    assert [shlex.split(c)[1] for c in commands] == [
        "report",
        "eval",
        "build-videos",
        "eval",
        "eval",
    ]
    assert shlex.split(commands[-1])[2] == "compare"
    for command in commands:
        result = CliRunner().invoke(main, shlex.split(command)[1:])
        assert result.exit_code == 0, (command, result.output)
    assert (out / "report" / "index.html").is_file()
    assert (out / "compare" / "comparison.md").is_file()
    # the second "model" always follows the prompt: every valid sample is correct at 0.7
    assert "Correct@0.7" in (out / "compare" / "comparison.md").read_text()
    rerun = _demo(out)
    assert "nothing to train" in rerun and "last step:" not in rerun


def test_log_lines_put_every_value_in_the_same_column() -> None:
    first = format_log_line({"loss": 0.69314, "grad_norm": 0.0060721, "total_flos": 1.0}, 3, 12)
    second = format_log_line({"loss": 0.7, "grad_norm": 4.9111e-05}, 10, 12)
    assert first == "step  3/12  loss 0.6931     grad_norm 0.006072"
    assert second == "step 10/12  loss 0.7        grad_norm 4.911e-05"
    assert first.index("grad_norm") == second.index("grad_norm")
