"""The judge asks about the relations of docs/method.md §8 in the prompt grammar's own words."""

from __future__ import annotations

import pytest

from dsr.judge.questions import questions_for


@pytest.mark.parametrize(
    ("initial", "final", "first", "last"),
    [
        ("front", "behind", "initially in front of", "finally behind"),
        ("under", "left", "initially under", "finally on the left of"),
        ("top", "under", "initially on the top of", "finally under"),
    ],
)
def test_questions_use_each_relations_static_wording(
    initial: str, final: str, first: str, last: str
) -> None:
    row = {"sample_id": "s", "animal": "cat", "object": "log", "initial": initial, "final": final}
    asked = questions_for(row)
    assert asked[0].text == f"Is the cat {first} the log? Answer yes or no."
    assert asked[1].text == f"Is the cat {last} the log? Answer yes or no."
    assert (asked[0].relation, asked[1].relation) == (initial, final)
