"""What users read besides the code: the method page that the code cites, the paper named near
the top of the README, and a citation file that citation tools can read."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
METHOD = ROOT / "docs" / "method.md"
PAPER = "SpatialAlign: Aligning Dynamic Spatial Relationships in Video Generation"
ARXIV = "2602.22745"
AUTHORS_CODE = "github.com/fengming001ntu/SpatialAlign"

#: The numbered sections that docstrings and help texts cite as "docs/method.md §N".
SECTIONS = {
    1: "The task",
    2: "Generation",
    3: "Detection, tracking and validity",
    4: "DSR-Score",
    5: "Preference data",
    6: "Training objective",
    7: "Evaluation metrics",
    8: "Relations beyond the paper",
}
#: "docs/method.md §4", "docs/method.md §2–3", "docs/method.md §5-6"
CITATION = re.compile(r"docs/method\.md §(\d+)(?:\s*[–-]\s*(\d+))?")


def test_the_method_page_has_the_numbered_sections_in_order() -> None:
    headings = re.findall(r"^## (.+)$", METHOD.read_text(encoding="utf-8"), flags=re.M)
    assert headings == [f"§{n} {title}" for n, title in SECTIONS.items()]


def test_every_citation_of_the_method_page_names_an_existing_section() -> None:
    files = [ROOT / "README.md", *(ROOT / "dsr").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]
    cited = {
        f"{path.relative_to(ROOT)}: §{first}{'–' + last if last else ''}"
        for path in files
        for first, last in CITATION.findall(path.read_text(encoding="utf-8"))
        if not {int(first), int(last or first)} <= set(SECTIONS)
    }
    assert cited == set()


def test_the_readme_names_the_paper_and_the_authors_code_near_the_top() -> None:
    top = " ".join(ROOT.joinpath("README.md").read_text(encoding="utf-8").splitlines()[:20])
    assert PAPER in top and f"arXiv:{ARXIV}" in top and AUTHORS_CODE in top
    assert "docs/method.md" in top


def test_citation_cff_cites_the_software_and_prefers_the_paper() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert cff["license"] == "Apache-2.0" and cff["authors"] and cff["message"]
    paper = cff["preferred-citation"]
    assert paper["title"] == PAPER and paper["year"] == 2026
    assert [a["family-names"] for a in paper["authors"]] == ["Liu", "Cham", "Zheng"]
    identifiers = {i["value"] for i in paper["identifiers"]}
    assert identifiers >= {f"arXiv:{ARXIV}", f"10.48550/arXiv.{ARXIV}"}
    assert paper["repository-code"].endswith(AUTHORS_CODE)
