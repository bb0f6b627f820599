"""The paper both cards cite, and where its authors' code lives."""

from __future__ import annotations

__all__ = ["ARXIV_ID", "ARXIV_URL", "AUTHORS_CODE_URL", "BIBTEX", "PAPER_TITLE", "citation_section"]

PAPER_TITLE = "SpatialAlign: Aligning Dynamic Spatial Relationships in Video Generation"
ARXIV_ID = "2602.22745"
ARXIV_URL = f"https://arxiv.org/abs/{ARXIV_ID}"
AUTHORS_CODE_URL = "https://github.com/fengming001ntu/SpatialAlign"
BIBTEX = f"""@misc{{liu2026spatialalign,
  title         = {{{PAPER_TITLE}}},
  author        = {{Liu, Fengming and Cham, Tat-Jen and Zheng, Chuanxia}},
  year          = {{2026}},
  eprint        = {{{ARXIV_ID}}},
  archivePrefix = {{arXiv}},
  primaryClass  = {{cs.CV}},
  url           = {{{ARXIV_URL}}}
}}"""


def citation_section() -> str:
    """The card's "Citation" section: the paper's BibTeX and the authors' code."""
    return (
        f"## Citation\n\n[{PAPER_TITLE}]({ARXIV_URL}) (Liu, Cham, Zheng; arXiv:{ARXIV_ID}); the "
        f"authors' code: [{AUTHORS_CODE_URL.removeprefix('https://github.com/')}]"
        f"({AUTHORS_CODE_URL}).\n\n```bibtex\n{BIBTEX}\n```\n"
    )
