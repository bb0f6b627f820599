"""One source for the differences from the authors' code: the README's table is generated from the
rows ``--paper-exact`` applies, and every row's preset names real options of its component."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dsr.errors import ConfigError
from dsr.paper_exact import (
    DEVIATION_ROWS,
    TABLE_BEGIN,
    TABLE_END,
    deviation_table,
    paper_exact_options,
    rewrite_table,
)

ROOT = Path(__file__).resolve().parents[1]


def _readme_table() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(TABLE_BEGIN) == 1 and text.count(TABLE_END) == 1
    return text.split(TABLE_BEGIN, 1)[1].split(TABLE_END, 1)[0]


def test_readme_table_is_the_generated_one() -> None:
    """Regenerate with ``python -m dsr.paper_exact README.md`` when this fails."""
    assert _readme_table() == "\n" + deviation_table()


def test_table_has_one_line_per_row_with_its_switch_and_rule() -> None:
    lines = deviation_table().splitlines()
    assert len(lines) == 2 + len(DEVIATION_ROWS)
    for row, line in zip(DEVIATION_ROWS, lines[2:], strict=True):
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        assert cells[:2] == [row.component, row.what] and len(cells) == 6
        assert cells[5] == (f"`{row.rule}`" if row.rule else "")


def test_module_rewrites_a_stale_table_in_place(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{TABLE_BEGIN}\n| stale |\n{TABLE_END}\n\nafter\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "dsr.paper_exact", str(readme)], check=True, cwd=ROOT)
    text = readme.read_text(encoding="utf-8")
    assert "| stale |" not in text and text.endswith(f"{TABLE_END}\n\nafter\n")
    assert text.split(TABLE_BEGIN)[1].split(TABLE_END)[0] == "\n" + deviation_table()


def test_text_without_markers_is_refused() -> None:
    with pytest.raises(ConfigError):
        rewrite_table("# a README without the table markers\n")


def _components() -> set[tuple[str, str]]:
    return {c for r in DEVIATION_ROWS for c in (*r.preset, *r.preset_from_files)}


@pytest.mark.parametrize("from_files", [False, True])
@pytest.mark.parametrize("component", sorted(_components()))
def test_every_preset_is_accepted_by_its_component(component: tuple[str, str], from_files) -> None:
    from dsr.generation import GENERATORS
    from dsr.scoring import ScoreConfig
    from dsr.tracking import TRACKERS

    kind, name = component
    options = paper_exact_options(kind, name, {}, from_files=from_files)
    assert options
    if kind == "tracker":
        TRACKERS.check(name, options)
    elif kind == "generator":
        GENERATORS.check(name, options)
    elif component == ("score", "dsr-score"):
        assert ScoreConfig(**options) != ScoreConfig()
    elif component == ("training", "spatialalign"):
        from dsr.training.options import SpatialAlignOptions

        fields = SpatialAlignOptions.__dataclass_fields__
        assert set(options) <= set(fields)
        assert all(options[k] != fields[k].default for k in options)
    elif component == ("evaluation", "dsr-eval"):
        from dsr.evaluation.config import CLIP_IQA_VARIANTS, ID_VARIANTS, TAU_VARIANTS

        choices = {
            "id_variant": ID_VARIANTS,
            "clip_iqa_variant": CLIP_IQA_VARIANTS,
            "tau_variant": TAU_VARIANTS,
        }
        assert all(options[k] in choices[k] for k in options)
    else:
        pytest.skip(f"no check for the component {component} here yet: add one")


def test_every_tracking_and_scoring_rule_is_counted_by_the_audit_and_the_samples() -> None:
    from dsr.tracking.base import DEVIATIONS

    rules = [r.rule for r in DEVIATION_ROWS if r.rule]
    assert len(rules) == len(set(rules))
    sample_rules = {
        r.rule for r in DEVIATION_ROWS if r.rule and r.component in ("tracking", "scoring")
    }
    assert sample_rules and sample_rules <= set(DEVIATIONS)
