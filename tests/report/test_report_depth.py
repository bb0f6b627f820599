"""The sample page shows the depth values of a sample placed in depth, and only there.

The session dataset (left/right/top prompts) gets depth values written into one stored row, as a
front/behind sample carries them; the page must draw them and the other pages must not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _report_helpers import stored_rows
from test_report_browser import Page, _shot

from dsr.builders.folder import DatasetFolder
from dsr.report import ReportConfig, build_report
from dsr.report.layout import file_key

TARGET = "train-000__seed00"


def _with_depth(root: Path) -> dict[str, list[float | None]]:
    """Write depth values into TARGET's stored row; returns them."""
    folder = DatasetFolder(root)
    for path in folder.data_files("samples", "train"):
        table = pq.read_table(path)
        rows = table.to_pylist()
        for row in rows:
            if row["sample_id"] == TARGET:
                n = row["num_frames"]
                values = {
                    "animal_depth": [0.2 + 0.5 * i / (n - 1) for i in range(n)],
                    "object_depth": [0.45] * (n - 1) + [None],
                    "occlusion": [
                        1.0 if i < n // 3 else (-1.0 if i > 2 * n // 3 else 0.0) for i in range(n)
                    ],
                }
                row.update(values)
                pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
                return values
    raise AssertionError(f"{TARGET} is not in the dataset")


@pytest.fixture
def tab(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    yield Page(context)
    context.close()


@pytest.fixture
def depth_report(dataset_copy: Path, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    values = _with_depth(dataset_copy)
    out = tmp_path / "site"
    result = build_report(ReportConfig(source=str(dataset_copy), out=str(out)))
    assert not result.problems
    return out, values


def test_sample_page_draws_depth_only_where_stored(
    tab: Page, depth_report: tuple[Path, dict[str, Any]], dataset_copy: Path
) -> None:
    report, values = depth_report
    page = tab.open(report, f"sample.html#id={file_key(TARGET)}")
    page.wait_for_selector("h1.mono")
    headings = page.locator("h2").all_text_contents()
    assert "Depth" in headings and headings.index("Depth") > headings.index("SSR curves")
    chart = page.locator("svg.chart[aria-label^='Depth per frame']")
    assert chart.count() == 1
    data = page.evaluate(f"window.DSR_DATA.samples['{file_key(TARGET)}'].depth")
    assert data["animal"] == pytest.approx(values["animal_depth"], abs=1e-4)
    assert data["object"][-1] is None and data["occlusion"] == values["occlusion"]
    page.evaluate("DSR.sampleView().seekFrame(5)")
    _shot(page, "sample-depth.png")
    other = next(r["sample_id"] for r in stored_rows(dataset_copy) if r["sample_id"] != TARGET)
    page = tab.open(report, f"sample.html#id={file_key(other)}")
    page.wait_for_function(f"document.querySelector('h1.mono').textContent === '{other}'")
    assert "Depth" not in page.locator("h2").all_text_contents()
    assert tab.errors == []
