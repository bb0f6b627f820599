"""The files that `make test` schedules first exist, and moving them first keeps every other
order (a renamed file would silently fall back to the collection order)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from _schedule import LONGEST_FIRST, longest_first


def test_every_file_scheduled_first_exists() -> None:
    tests = Path(__file__).resolve().parent
    assert [name for name in LONGEST_FIRST if not (tests / name).is_file()] == []


def test_listed_files_move_first_in_list_order_and_the_rest_keep_theirs() -> None:
    root = Path("/t")
    names = ["a/x.py", "test_demo.py", "a/x.py", "training/test_train.py", "b.py", "test_demo.py"]
    items = [SimpleNamespace(path=root / n, i=i) for i, n in enumerate(names)]
    longest_first(items, root)  # type: ignore[arg-type]
    assert [it.i for it in items] == [3, 1, 5, 0, 2, 4]
