"""The project is published as ``spatialalign`` (``dsr`` on PyPI is an unrelated package); the
import name and the command stay ``dsr``, and every card links to the right project page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsr.cards import render_dataset_card
from dsr.cards.model_card import render_model_card

ROOT = Path(__file__).resolve().parents[1]
PYPI_LINK = re.compile(r"https://pypi\.org/project/([A-Za-z0-9_.-]+)/?")


def test_distribution_is_spatialalign_with_the_dsr_command() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "spatialalign"
    assert project["scripts"] == {"dsr": "dsr.cli:main"}


@pytest.mark.parametrize(
    "card",
    [
        render_dataset_card({"configs": {}, "dsr_version": "0.1.0"}),
        render_model_card({"settings": {}, "dsr_version": "0.1.0", "format_version": 1}),
    ],
)
def test_cards_link_to_the_spatialalign_project_page(card: str) -> None:
    assert PYPI_LINK.findall(card) == ["spatialalign"]


def test_no_project_file_links_to_the_unrelated_dsr_package() -> None:
    files = [
        ROOT / "README.md",
        ROOT / "Makefile",
        *(ROOT / "dsr").rglob("*.md"),
        *(ROOT / "dsr").rglob("*.py"),
    ]
    linked = {path.name: PYPI_LINK.findall(path.read_text(encoding="utf-8")) for path in files}
    assert not {name: found for name, found in linked.items() if set(found) - {"spatialalign"}}
