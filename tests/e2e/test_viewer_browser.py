"""The viewer in a real headless browser: Debian's chromium driven by playwright (no browser download).

The page must load, every highlight must sit on exactly the text at its span's offsets, and clicking
an item must show its fields. Screenshots land in tests/artifacts/ (not committed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from factline.settings import Settings
from tests.conftest import ARTICLES, RECORDINGS, ROOT, LiveServer, load_recording, samples_settings
from tests.system_tools import ensure_command

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking"]
QUOTE_COLOUR = "rgb(252, 211, 77)"  # --quote in api/templates/viewer.html
SPAN_LISTS = ("quotes", "events", "positions", "proposals")
JOINED_TEXT = "els => els.map(e => e.textContent).join('')"
EMBEDDED_EXTRACTION = "JSON.parse(document.getElementById('extraction-data').textContent)"

if TYPE_CHECKING:  # imported for real once chromium is known to be there
    from playwright.sync_api import Browser, Page


@pytest.fixture
def settings() -> Settings:
    """The calls the sample recordings were made with."""
    return samples_settings()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = ensure_command("chromium", ("chromium",), "FACTLINE_BROWSER_TESTS")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.new_page(viewport={"width": 1400, "height": 900})
    yield opened
    opened.close()


def spans_of(extraction: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every evidence span and actor mention, with the id the page gives it."""
    items = [item for name in SPAN_LISTS for item in extraction[name]]
    return [(f"{item['id']}:{n}", span) for item in items for n, span in enumerate(item["evidence"])] + [
        (f"{actor['id']}:{n}", span)
        for actor in extraction["actors"]
        for n, span in enumerate(actor["mentions"])
    ]


def check_highlights(page: Page, text: str) -> dict[str, Any]:
    """The article is shown whole, and each span's highlighted pieces are exactly text[start:end]."""
    assert page.text_content("#article") == text
    extraction: dict[str, Any] = page.evaluate(
        "JSON.parse(document.getElementById('extraction-data').textContent)"
    )
    spans = spans_of(extraction)
    assert len(spans) > 10
    for span_id, span in spans:
        shown = page.eval_on_selector_all(
            f'[data-spans~="{span_id}"]', "els => els.map(e => e.textContent).join('')"
        )
        assert shown == text[span["start"] : span["end"]], span_id
    for quote in extraction["quotes"]:
        colours = page.eval_on_selector_all(
            f'[data-spans~="{quote["id"]}:0"]', "els => els.map(e => getComputedStyle(e).backgroundColor)"
        )
        assert set(colours) == {QUOTE_COLOUR}
    for kind in ("quote", "event", "position", "proposal", "mention"):
        assert page.locator(f".hl.k-{kind}").count() > 0, kind
    return extraction


def check_clicks(page: Page, extraction: dict[str, Any]) -> None:
    actors = {actor["id"]: actor["name"] for actor in extraction["actors"]}
    quote = next(q for q in extraction["quotes"] if q["speaker_id"])
    page.click(f'li[data-item="{quote["id"]}"]')
    assert page.text_content("#details-title") == f"quote {quote['id']}"
    assert page.text_content('#fields dd[data-field="text"]') == quote["text"]
    assert page.text_content('#fields dd[data-field="kind"]') == quote["kind"]
    assert actors[quote["speaker_id"]] in (page.text_content('#fields dd[data-field="speaker_id"]') or "")
    assert page.locator(f'.hl.selected[data-items~="{quote["id"]}"]').count() > 0

    # A piece under several items shows the next one on each click.
    piece = page.locator(".hl.k-event.k-mention").first
    under = (piece.get_attribute("data-items") or "").split()
    assert len(under) >= 2
    shown = []
    for _ in under:
        piece.click()
        shown.append((page.text_content("#details-title") or "").split()[-1])
    assert sorted(shown) == sorted(under)


def test_viewer_form_shows_a_single_extraction(
    page: Page, live_server: LiveServer, httpx_mock: HTTPXMock
) -> None:
    recording = load_recording(RECORDINGS[4])
    recording.replay(httpx_mock)
    request = recording.extraction_request()

    page.goto(f"{live_server.base_url}/viewer")
    page.fill("#text", request.text)
    page.fill("#published_at", str(request.published_at))
    page.click("button[type=submit]")
    page.wait_for_selector("#article")

    extraction = check_highlights(page, request.text)
    check_clicks(page, extraction)
    page.click(f'li[data-item="{extraction["quotes"][1]["id"]}"]')
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "viewer-single.png"))


def test_viewer_shows_any_item_of_a_batch(page: Page, live_server: LiveServer, httpx_mock: HTTPXMock) -> None:
    for path in RECORDINGS:
        load_recording(path).replay(httpx_mock)
    archive = (ROOT / "fixtures" / "batches" / "articles.ndjson").read_bytes()
    created = httpx.post(f"{live_server.base_url}/v1/batches", content=archive, timeout=30)
    assert created.status_code == 202
    batch = created.json()
    deadline = time.monotonic() + 60
    while batch["counts"]["pending"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
        batch = httpx.get(f"{live_server.base_url}/v1/batches/{batch['id']}", timeout=10).json()

    page.goto(f"{live_server.base_url}/viewer/batches/{batch['id']}")
    links = page.locator("main a")
    assert links.count() == batch["counts"]["total"]
    page.click("text=001_c0f1db72d73447e2.txt")
    page.wait_for_selector("#article")
    check_highlights(page, (ARTICLES / "001_c0f1db72d73447e2.txt").read_text("utf-8"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "viewer-batch-item.png"))

    missing = httpx.get(f"{live_server.base_url}/viewer/batches/{batch['id']}/items/itm_nope", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:factline:problem:batch-item-not-found"


def test_viewer_form_errors_are_problems(live_server: LiveServer) -> None:
    response = httpx.post(
        f"{live_server.base_url}/viewer", data={"text": "", "published_at": "soon"}, timeout=10
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {e["location"] for e in response.json()["errors"]} >= {"body.text", "body.published_at"}
    assert json.loads(response.text)["type"] == "urn:factline:problem:invalid-request"
