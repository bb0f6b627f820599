"""A small synthetic dataset (two splits, every validity case, pairs) built once per session, its
report written once, and a headless Chromium (Debian's ``chromium``, driven by Playwright; no
browser download) for the browser tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _report_helpers import CHROMIUM, CHROMIUM_ARGS, build_dataset


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_dataset(tmp_path_factory.mktemp("report-data") / "dsr")


@pytest.fixture
def dataset_copy(dataset: Path, tmp_path: Path) -> Path:
    """A copy of the session dataset that a test may damage."""
    return Path(shutil.copytree(dataset, tmp_path / "copy", symlinks=True))


@pytest.fixture(scope="session")
def evaluation(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``dsr eval`` of the train split (DSR metrics only: no model), 1,000 bootstrap resamples."""
    from dsr.evaluation import EvalConfig, evaluate

    out = tmp_path_factory.mktemp("report-eval") / "eval"
    config = EvalConfig(
        dataset=str(dataset), out=str(out), split="train", metrics=("dsr",), n_resamples=1000
    )
    assert evaluate(config).results is not None
    return out


@pytest.fixture(scope="session")
def report(dataset: Path, evaluation: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dsr.report import ReportConfig, build_report

    out = tmp_path_factory.mktemp("report-out") / "site"
    result = build_report(
        ReportConfig(source=str(dataset), out=str(out), eval_results=str(evaluation))
    )
    assert not result.problems, result.problems
    return out


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: `apt-get install chromium` (make setup does) or "
            "set DSR_CHROMIUM"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
