"""The order `make test` runs the test files in: the longest first.

Under pytest-xdist's ``--dist loadfile`` a worker takes one file at a time; a long file started
last leaves the other workers idle until it ends. Other files keep their collection order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: The longest test files (about 10-35 s each on a 2-core machine), longest first.
LONGEST_FIRST = (
    "training/test_train.py",
    "test_demo.py",
    "training/test_ddp.py",
    "test_model_loading.py",
    "report/test_report_browser.py",
    "training/test_train_families.py",
    "builders/test_build_videos_resume.py",
    "test_new_relations_end_to_end.py",
    "judge/test_judge_failures.py",
    "builders/test_dataset_formats.py",
)


def longest_first(items: list[pytest.Item], tests: Path) -> None:
    """Move the items of :data:`LONGEST_FIRST` to the front, in its order (a stable sort: the
    order within a file, and of the other files, is kept)."""

    def rank(item: pytest.Item) -> int:
        name = Path(str(item.path)).relative_to(tests).as_posix()
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)
