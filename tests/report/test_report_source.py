"""`dsr report` on a folder that is not a dataset folder (the demo's parent folder, an empty one)
is an error naming what was expected and what was found, not an empty report."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from dsr.cli import main


def _report(source: Path, out: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["report", str(source), "--out", str(out)])
    return result.exit_code, result.stderr.strip().splitlines()


def test_the_parent_of_a_dataset_folder_is_refused_naming_the_dataset_inside(
    tmp_path: Path,
) -> None:
    parent = tmp_path / "demo_output"
    (parent / "dataset").mkdir(parents=True)
    (parent / "dataset" / "dsr_build.json").write_text("{}")
    (parent / "adapter").mkdir()
    (parent / "notes.txt").write_text("x")
    code, lines = _report(parent, tmp_path / "site")
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith(f"Error: {parent} is not a dataset folder")
    assert "<config>/<split>-<fingerprint>-NNNNN-of-MMMMM.parquet" in lines[0]
    assert "found adapter/, dataset/, notes.txt" in lines[0]
    assert f"did you mean {parent / 'dataset'}?" in lines[0]
    assert not (tmp_path / "site" / "index.html").exists()


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, lines = _report(tmp_path / "empty", tmp_path / "site")
    assert code == 1 and len(lines) == 1 and "found nothing" in lines[0], lines
