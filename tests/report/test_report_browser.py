"""The report in a real browser: headless Chromium opens it from file:// (no server) and must show
no console errors, the right cards, a playing video whose overlay draws the stored box of the shown
frame, and the winners and losers of a pair. Screenshots land in ``test-artifacts/report/``."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _report_helpers import ARTIFACTS, stored_rows
from PIL import Image

from dsr.generation.synthetic import _colour as synthetic_colour
from dsr.report import ReportConfig, build_report
from dsr.report.layout import file_key

ANIMAL_RGB = (0xE6, 0x9F, 0x00)


class Page:
    """A browser tab that records console errors, page errors and failed requests."""

    def __init__(self, context: Any) -> None:
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))

    def open(self, root: Path, page: str) -> Any:
        self.page.goto(
            root.joinpath(page.split("#")[0]).as_uri()
            + ("#" + page.split("#", 1)[1] if "#" in page else "")
        )
        return self.page


@pytest.fixture
def tab(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Page(context)
    yield page
    context.close()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_overview_opens_without_console_errors(tab: Page, report: Path) -> None:
    page = tab.open(report, "index.html")
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text().startswith("DSR report: dsr")
    assert (
        page.locator("svg.chart").count() >= 4
    )  # curves per split, per type (two splits), histogram
    assert page.locator("#problems-h").count() == 0
    # the evaluation as the paper's Table 2: each value with its interval and n, no JSON dump
    correct = page.locator("#eval-table tbody td").first.inner_text().split("\n")
    assert correct[0] == "0.400" and correct[1].startswith("[") and correct[2] == "n = 30 samples"
    assert page.locator("#eval-types tbody tr").count() == 6
    assert page.locator("#eval-types tbody th").first.inner_text() == "LT left → top"
    assert page.locator("#eval-curve .band polygon").count() == 1
    assert page.locator("section[aria-labelledby=eval-h] pre").count() == 0
    assert page.locator("#eval-json").get_attribute("href") == "data/eval_results.json"
    # every correctness plot labels the τ = 0.7 line (per split, per type of both splits, eval)
    labels = page.locator("svg.chart .vline-label").all_text_contents()
    assert labels == ["τ = 0.7"] * 4
    assert page.locator("#counts-h ~ table tbody th").first.locator("[title]").get_attribute(
        "title"
    ) == (
        "LT: the animal starts on the left of the object and ends on top of it (the paper's type A)"
    )
    _shot(page, "overview.png")
    assert tab.errors == []


def _card_count(page: Any) -> int:
    return page.locator("#cards > li").count()


def test_gallery_shows_every_sample_and_filters_change_the_count(
    tab: Page, report: Path, dataset: Path
) -> None:
    rows = stored_rows(dataset)
    page = tab.open(report, "gallery.html")
    page.wait_for_selector("#cards")
    assert _card_count(page) == len(rows) == 42
    page.select_option("#f-validity", "invalid")
    page.wait_for_function(
        f"document.querySelectorAll('#cards > li').length === {sum(not r['valid'] for r in rows)}"
    )
    page.select_option("#f-validity", "")
    page.fill("#f-q", "duck")
    page.wait_for_function(
        "document.querySelectorAll('#cards > li').length === "
        f"{sum(r['animal'] == 'duck' for r in rows)}"
    )
    assert "q=duck" in page.url
    page.fill("#f-q", "")
    page.select_option("#f-role", "winner")
    winners = {s for p in stored_rows(dataset, "pairs") for s in p["chosen_ids"]}
    page.wait_for_function(f"document.querySelectorAll('#cards > li').length === {len(winners)}")
    shown = {
        a.get_attribute("href").split("id=")[1].split("&")[0]
        for a in page.locator("#cards a.card").all()
    }
    assert shown == {file_key(w) for w in winners}
    page.select_option("#f-role", "")
    page.select_option("#f-type", "LT")
    assert page.locator("#f-type option:checked").inner_text() == "LT left → top"
    assert page.locator("#cards .badge.type").first.get_attribute("title").startswith("LT: the")
    page.select_option("#f-type", "")
    # page jump: 24 per page, then type page 2 and press Enter
    page.locator(".page-size").first.select_option("24")
    page.wait_for_function("document.querySelectorAll('#cards > li').length === 24")
    page.locator(".page-jump").first.fill("2")
    page.locator(".page-jump").first.press("Enter")
    page.wait_for_function("document.querySelectorAll('#cards > li').length === 18")
    assert page.locator("#count").inner_text().startswith("Showing 25–42 of 42")
    assert "page=2" in page.url and "per=24" in page.url
    page.wait_for_timeout(300)  # posters of the visible cards load
    _shot(page, "gallery.png")
    assert tab.errors == []


def _frame_with_animal(row: dict[str, Any]) -> int:
    """A frame past the first third whose animal box is present (drawn at a known place)."""
    return next(
        i for i in range(row["num_frames"] // 3, row["num_frames"]) if row["animal_present"][i]
    )


def _read_overlay(page: Any, frame: int) -> dict[str, Any]:
    page.wait_for_function(f"document.querySelector('.stage canvas').dataset.frame === '{frame}'")
    return page.evaluate("""() => {
        const c = document.querySelector('.stage canvas');
        const box = c.dataset.animalBox.split(',').map(Number);
        const x = Math.floor(box[0]), y = Math.floor((box[1] + box[3]) / 2);
        const px = Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data);
        return {box, px, width: c.width, height: c.height};
    }""")


#: Play, then pause from inside a frame callback, right after a new frame reached the screen (in
#: ``lagging`` mode only at a moment when the clock still reads a time before that frame, where
#: floor(currentTime · fps) names the previous one). ``pause`` is the button the user would press.
PAUSE_AFTER_A_PRESENTED_FRAME = """([video, pause, lagging]) => new Promise((resolve, reject) => {
    const v = document.querySelector(video);
    const timer = setTimeout(() => reject(new Error('no frame to pause at')), 8000);
    const again = () => { v.currentTime = 0; document.querySelector(pause).click(); };
    v.addEventListener('ended', again, {once: true});
    const tick = (_now, meta) => {
        if (!lagging || v.currentTime < meta.mediaTime) {
            document.querySelector(pause).click();
            clearTimeout(timer);
            v.removeEventListener('ended', again);
            return resolve();
        }
        v.requestVideoFrameCallback(tick);
    };
    v.requestVideoFrameCallback(tick);
    if (v.paused) document.querySelector(pause).click();
})"""
#: Two animation frames: time for a frame still queued at the pause to reach the screen.
SETTLE = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _presented_animal(stage: Any, row: dict[str, Any]) -> tuple[float, float] | None:
    """The centre of the animal in the video frame on screen (a screenshot of the video with the
    overlay hidden), in the video's pixels; None when the animal is not in the picture."""
    canvas = stage.locator("canvas")
    canvas.evaluate("(c) => { c.style.visibility = 'hidden'; }")
    png = stage.locator("video").screenshot()
    canvas.evaluate("(c) => { c.style.visibility = ''; }")
    picture = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)
    # the synthetic generator paints the animal in one flat colour derived from its name
    near = np.abs(picture - synthetic_colour(row["animal"])).sum(axis=2) < 40
    if near.sum() < 20:
        return None
    ys, xs = np.nonzero(near)
    h, w = near.shape
    return (xs.mean() + 0.5) * row["width"] / w - 0.5, (ys.mean() + 0.5) * row["height"] / h - 0.5


def _assert_overlay_draws_the_presented_frame(stage: Any, row: dict[str, Any]) -> None:
    """The overlay's frame is the one whose stored animal box sits where the picture shows the
    animal (within a pixel of the best match: neighbouring frames lie 1–18 px apart here), and
    the overlay draws that frame's stored box."""
    canvas = stage.locator("canvas")
    frame = int(canvas.get_attribute("data-frame"))
    drawn = canvas.get_attribute("data-animal-box")
    seen = _presented_animal(stage, row)
    stored = row["animal_boxes"]
    if seen is None:
        assert stored[frame] is None and drawn == "", (frame, drawn)
        return
    centres = np.array(
        [[np.nan] * 2 if b is None else [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2] for b in stored]
    )
    distance = np.hypot(centres[:, 0] - seen[0], centres[:, 1] - seen[1])
    best = int(np.nanargmin(distance))
    assert stored[frame] is not None, (frame, best)
    assert distance[frame] <= distance[best] + 1.0, f"overlay frame {frame}, picture frame {best}"
    assert [float(x) for x in drawn.split(",")] == pytest.approx(stored[frame], abs=0.006)


def test_sample_video_plays_and_the_overlay_draws_the_stored_box(
    tab: Page, report: Path, dataset: Path
) -> None:
    rows = sorted(
        stored_rows(dataset), key=lambda r: (r["split"] != "train", r["prompt_id"], r["seed"])
    )
    at = next(
        i for i, r in enumerate(rows) if r["sample_id"] == "train-001__seed09"
    )  # hidden_briefly
    row, after = rows[at], rows[at + 1]
    page = tab.open(report, f"sample.html#id={file_key(row['sample_id'])}")
    page.wait_for_selector(".stage video")
    page.wait_for_function("document.querySelector('.stage video').readyState >= 2")
    stage = page.locator(".stage")
    for lagging in (True, False, True, False, True):
        page.evaluate(PAUSE_AFTER_A_PRESENTED_FRAME, [".stage video", "#play", lagging])
        page.evaluate(SETTLE)
        _assert_overlay_draws_the_presented_frame(stage, row)
    for frame in (_frame_with_animal(row), row["key_frame"]):
        page.evaluate(f"DSR.sampleView().seekFrame({frame})")
        drawn = _read_overlay(page, frame)
        assert drawn["box"] == pytest.approx(row["animal_boxes"][frame], abs=0.006)
        assert (drawn["width"], drawn["height"]) == (row["width"], row["height"])
        assert (
            all(abs(a - b) <= 8 for a, b in zip(drawn["px"][:3], ANIMAL_RGB, strict=True))
            and drawn["px"][3] == 255
        )
    absent = row["animal_present"].index(False)
    page.evaluate(f"DSR.sampleView().seekFrame({absent})")
    page.wait_for_function(f"document.querySelector('.stage canvas').dataset.frame === '{absent}'")
    assert page.locator(".stage canvas").get_attribute("data-animal-box") == ""
    assert (
        page.locator("#framecount")
        .inner_text()
        .startswith(f"frame {absent} of 0–{row['num_frames'] - 1}")
    )
    _shot(page, "sample.png")
    page.keyboard.press("n")
    page.wait_for_function(f"location.hash === '#id={file_key(after['sample_id'])}'")
    page.wait_for_function(
        f"document.querySelector('h1.mono').textContent === '{after['sample_id']}'"
    )
    assert tab.errors == []


def test_pair_page_shows_that_prompts_winners_and_losers_playing_in_sync(
    tab: Page, report: Path, dataset: Path
) -> None:
    pair = next(p for p in stored_rows(dataset, "pairs") if p["prompt_id"] == "train-003")
    page = tab.open(report, f"pair.html#id={file_key('train-train-003')}")
    page.wait_for_selector("#winners .member")
    assert [m.get_attribute("data-id") for m in page.locator("#winners .member").all()] == pair[
        "chosen_ids"
    ]
    assert [m.get_attribute("data-id") for m in page.locator("#losers .member").all()] == pair[
        "rejected_ids"
    ]
    page.wait_for_function(
        "[...document.querySelectorAll('video')].every((v) => v.readyState >= 2)"
    )
    page.click("#play-all")
    page.wait_for_function(
        "[...document.querySelectorAll('video')].every((v) => v.currentTime > 0.5)", timeout=10_000
    )
    times = page.evaluate("[...document.querySelectorAll('video')].map((v) => v.currentTime)")
    assert len(times) == len(pair["chosen_ids"]) + len(pair["rejected_ids"])
    assert max(times) - min(times) < 0.3
    rows = {r["sample_id"]: r for r in stored_rows(dataset)}
    lead = f".member[data-id='{pair['chosen_ids'][0]}'] video"
    for lagging in (True, False):  # "Pause all" right after the first winner showed a new frame
        page.evaluate(PAUSE_AFTER_A_PRESENTED_FRAME, [lead, "#play-all", lagging])
        page.wait_for_function("[...document.querySelectorAll('video')].every((v) => v.paused)")
        page.wait_for_function("[...document.querySelectorAll('video')].every((v) => !v.seeking)")
        page.evaluate(SETTLE)
        for member in page.locator(".member").all():
            row = rows[member.get_attribute("data-id")]
            _assert_overlay_draws_the_presented_frame(member.locator(".stage"), row)
    _shot(page, "pair.png")
    assert tab.errors == []


def test_report_without_videos_plays_its_boxes_on_a_timer(
    tab: Page, dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "tracks-site"
    result = build_report(
        ReportConfig(source=str(dataset), out=str(out), config="tracks", splits=("test",))
    )
    assert (
        result.problems == []
        and result.videos.with_video == set()
        and not (out / "videos").exists()
    )
    page = tab.open(out, "gallery.html")
    page.wait_for_selector("#cards")
    assert _card_count(page) == 12 and page.locator(".thumb video").count() == 0
    page = tab.open(out, "sample.html#id=test-000__seed00")
    page.wait_for_selector(".stage canvas")
    page.click("#play")
    page.wait_for_function("Number(document.querySelector('.stage canvas').dataset.frame) >= 3")
    assert tab.errors == []
