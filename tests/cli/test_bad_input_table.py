"""Bad inputs, one row each: the command, the input, the exit code, the error line; and for every
row no traceback, and nothing that was there before changed (no file written, none lost). Two
commands refuse their input only after they opened their output folder (``train`` its run record,
``eval`` its work area): for those the new folder is named in :data:`OPENED`, and nothing else may
appear.

Exit code 1 is dsr's own one-line error (``Error: ...``); 2 is a usage error that click reports
for an option outside its range (its ``Error:`` line is the last one).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "builders"))

from _videos_helpers import prompt_records, write_prompts  # noqa: E402

from dsr.cli import main  # noqa: E402

SYNTH = ["--generator", "synthetic", "--tracker", "annotations", "--seeds", "0"]
GOOD_ROW = (
    '{"initial": "left", "final": "right", "seed": 3, "animal_boxes": [[0,0,1,1]], '
    '"object_boxes": [[2,0,3,1]]}\n'
)
VIDEO = ["--generator-opt", "num_frames=24", "--generator-opt", "height=48"]
VIDEO += ["--generator-opt", "width=64"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset folder with samples and pairs (1 prompt of each of two types × 2 seeds)."""
    root = write_prompts(tmp_path_factory.mktemp("built") / "ds", prompt_records(2))
    args = ["build-videos", "--prompts", str(root), "--out", str(root), *SYNTH[:4]]
    result = CliRunner().invoke(main, [*args, "--seeds", "0-1", *VIDEO])
    assert result.exit_code == 0, result.output
    return root


def _corrupt(folder: Path, config: str) -> None:
    for parquet in (folder / config).glob("*.parquet"):
        parquet.write_bytes(parquet.read_bytes()[:300])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory, built: Path) -> dict[str, str]:
    """The files a row may name (made once; each test checks that they stay as they are)."""
    src = tmp_path_factory.mktemp("inputs")
    (src / "tracks.jsonl").write_text(GOOD_ROW)
    (src / "link.jsonl").symlink_to(src / "tracks.jsonl")
    prompts = write_prompts(src / "prompts", prompt_records(2))
    (src / "videos").mkdir()
    (src / "videos" / "a.mp4").write_bytes(b"not decoded before the mapping is read")
    (src / "latin1.csv").write_bytes(
        "file,prompt_id,seed\ncafé.mp4,train-000,0\n".encode("latin-1")
    )
    (src / "seven.csv").write_text("file,prompt_id,seed\na.mp4,train-000,seven\n")
    (src / "empty").mkdir()
    broken = Path(shutil.copytree(built, src / "broken", ignore=shutil.ignore_patterns(".dsr")))
    _corrupt(broken, "samples")
    _corrupt(broken, "pairs")
    return {"src": str(src), "prompts": str(prompts), "built": str(built), "broken": str(broken)}


ROWS: list[tuple[str, str, int, str]] = [
    (
        "score-out-is-input",
        "score {src}/tracks.jsonl --out {src}/tracks.jsonl",
        1,
        "Error: --out {src}/tracks.jsonl would overwrite the input {src}/tracks.jsonl",
    ),
    (
        "score-out-links-to-input",
        "score {src}/tracks.jsonl --out {src}/link.jsonl",
        1,
        "Error: --out {src}/link.jsonl would overwrite the input",
    ),
    (
        "score-negative-max-errors",
        "score {src}/tracks.jsonl --out {tmp}/s.jsonl --max-errors -1",
        2,
        "Error: Invalid value for '--max-errors': -1 is not in the range x>=0.",
    ),
    (
        "score-huge-m",
        "score {src}/tracks.jsonl --out {tmp}/s.jsonl --m 1000000000000",
        1,
        "Error: m=1,000,000,000,000 exceeds the limit of 10,000 (the paper uses m=3)",
    ),
    (
        "build-videos-reversed-seeds",
        "build-videos --prompts {prompts} --out {tmp}/out --generator synthetic "
        "--tracker annotations --seeds 9-0",
        2,
        "Error: Invalid value for '--seeds': '9-0': the range 9-0 is reversed",
    ),
    (
        "build-videos-zero-shards",
        "build-videos --prompts {prompts} --out {tmp}/out " + " ".join(SYNTH) + " --num-shards 0",
        1,
        "Error: shard index 0 of 0 shards",
    ),
    (
        "build-videos-annotations-without-ground-truth",
        "build-videos --prompts {prompts} --out {tmp}/out --generator wan --tracker annotations "
        "--seeds 0",
        1,
        "Error: --tracker annotations reads the ground truth that only generators such as "
        "synthetic write; 'wan' videos have none",
    ),
    (
        "merge-only-with-nothing-to-merge",
        "build-videos --prompts {prompts} --out {src}/empty --merge-only",
        1,
        "Error: --merge-only: {src}/empty holds no finished samples to merge",
    ),
    (
        "score-videos-mapping-not-utf8",
        "score-videos {src}/videos --prompts {prompts} --out {tmp}/out --tracker annotations "
        "--mapping {src}/latin1.csv",
        1,
        "Error: {src}/latin1.csv: not UTF-8 text (byte 0xe9 at line 2)",
    ),
    (
        "score-videos-mapping-seed-not-integer",
        "score-videos {src}/videos --prompts {prompts} --out {tmp}/out --tracker annotations "
        "--mapping {src}/seven.csv",
        1,
        "Error: mapping file {src}/seven.csv row 1: seed 'seven' is not an integer",
    ),
    (
        "train-max-steps-minus-one",
        "train --output-dir {tmp}/run --dataset {built} --base-model {tmp}/wan --max-steps -1",
        1,
        "Error: max_steps=-1: give a positive number of optimizer steps",
    ),
    (
        "train-learning-rate-nan",
        "train --output-dir {tmp}/run --dataset {built} --base-model {tmp}/wan --learning-rate nan",
        1,
        "Error: learning_rate=nan: must be > 0 and finite",
    ),
    (
        "train-corrupt-samples",
        "train --output-dir {tmp}/run --dataset {broken} --base-model {tmp}/wan",
        1,
        "Error: {broken}/",
    ),
    (
        "eval-corrupt-samples",
        "eval run {broken} --out {tmp}/eval --split train --metrics dsr",
        1,
        "Error: {broken}/samples/",
    ),
    (
        "eval-absurd-resamples",
        "eval run {built} --out {tmp}/eval --split train --metrics dsr --n-resamples 1000000000000",
        1,
        "Error: n_resamples=1,000,000,000,000 exceeds the limit of 1,000,000",
    ),
    (
        "eval-missing-local-dino",
        "eval run {built} --out {tmp}/eval --split train --metrics dsr,id --dino {tmp}/no/dino",
        1,
        "Error: the DINOv2 model '{tmp}/no/dino' does not exist: it is a local path",
    ),
    (
        "demo-zero-prompts",
        "demo --out {tmp}/demo --prompts 0",
        2,
        "Error: Invalid value for '--prompts': 0 is not in the range x>=1.",
    ),
]


#: Rows whose command opens its (new) output folder before it meets the bad input.
OPENED = {"train-corrupt-samples": "run", "eval-missing-local-dino": "eval"}


def _tree(root: Path) -> dict[str, bytes | str]:
    """Every path under ``root``: a file's bytes, a folder or link as such."""
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = "link -> " + str(path.readlink())
        elif path.is_dir():
            out[rel] = "folder"
        else:
            out[rel] = path.read_bytes()
    return out


def _error_line(result: Result, code: int) -> str:
    assert result.exit_code == code and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output, result.output
    lines = result.output.strip().splitlines()
    if code == 1:  # dsr's own error: the one line of the output (progress bars aside)
        errors = [line for line in lines if line.startswith("Error: ")]
        assert len(errors) == 1 and lines[-1] == errors[0], result.output
        return errors[0]
    assert lines[0].startswith("Usage: "), result.output  # click's usage error
    return lines[-1]


@pytest.mark.parametrize(("name", "args", "code", "first"), ROWS, ids=[r[0] for r in ROWS])
def test_bad_input_is_one_line_and_changes_nothing(
    tmp_path: Path, inputs: dict[str, str], name: str, args: str, code: int, first: str
) -> None:
    paths = {**inputs, "tmp": str(tmp_path)}
    src, built = Path(inputs["src"]), Path(inputs["built"])
    before = (_tree(src), _tree(built), _tree(tmp_path))
    result = CliRunner().invoke(main, args.format(**paths).split())
    line = _error_line(result, code)
    assert line.startswith(first.format(**paths)), line
    written = _tree(tmp_path)
    opened = OPENED.get(name)
    if opened:
        written = {k: v for k, v in written.items() if k.split("/")[0] != opened}
    assert (_tree(src), _tree(built), written) == before
