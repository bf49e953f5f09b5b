"""Page chrome through the HTTP API: the teasers of other stories in capture 002 are not its facts."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from pytest_httpx import HTTPXMock

from api.app import create_app
from tests.conftest import RECORDED, authored, load_recording

RECORDING = load_recording(RECORDED / "002_e7cf198c34dc2028.json")
TEASERS = authored("page_chrome_teasers")
END_OF_ARTICLE = RECORDING.article_text.index("Dear RS readers")


async def extract(client: AsyncTestClient[Litestar], body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/extractions", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def spans(result: dict[str, Any]) -> list[dict[str, Any]]:
    items = [item for kind in ("quotes", "events", "positions", "proposals") for item in result[kind]]
    return [span for item in items for span in item["evidence"]] + [
        span for actor in result["actors"] for span in actor["mentions"]
    ]


async def test_nothing_in_the_recorded_extraction_comes_from_the_page_around_the_article(
    httpx_mock: HTTPXMock,
) -> None:
    RECORDING.replay(httpx_mock)
    async with AsyncTestClient(app=create_app(RECORDING.settings())) as client:
        result = await extract(client, RECORDING.request_json())
    assert all(span["end"] <= END_OF_ARTICLE for span in spans(result))
    # The article's actors keep their mentions in the article; Putin's name in a teaser is not one. The
    # reporting cues ("Putin said he would…") teach the directory his surname: each use in the article counts.
    putin = next(actor for actor in result["actors"] if "Putin" in actor["name"])
    named = "Russian President Vladimir Putin"
    first = RECORDING.article_text.index(named)
    surname = [m.start() for m in re.finditer(r"\bPutin\b", RECORDING.article_text[:END_OF_ARTICLE])]
    assert RECORDING.article_text.count("Putin") > len(surname)  # the teasers name him too
    later = [start for start in surname if start > first + len(named)]
    assert [m["start"] for m in putin["mentions"]] == [first, *later]


async def test_teaser_claims_the_model_returns_are_dropped_with_a_warning(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    TEASERS.replay(httpx_mock)
    result = await extract(client, TEASERS.request_json())
    text = TEASERS.article_text
    assert [q["text"] for q in result["quotes"] if q["found_by"] == "model"] == ["fundamentally wrong"]
    # The article's own events and stances are still read off its text; the teasers' are not (spans below).
    assert [e["date"] for e in result["events"] if e["found_by"] == "model"] == ["2025-09-01"]
    assert [p for p in result["positions"] if p["found_by"] == "model"] == []
    assert [p["evidence"][0]["text"] for p in result["proposals"] if p["found_by"] == "model"] == [
        "France and Britain have so far seemed the most keen to participate in a “reassurance force”"
    ]
    assert all(span["end"] <= END_OF_ARTICLE and span["text"] in text for span in spans(result))
    chrome = {w["item"] for w in result["warnings"] if w["code"] == "page_chrome"}
    assert chrome == {"quotes[1]", "events[1]", "positions[0]", "proposals[0]"}
    # Amanda Sloat is named only in a teaser: not an actor of this article, and no item points at her.
    assert "Amanda Sloat" not in [actor["name"] for actor in result["actors"]]
    assert any(w["item"] == "actors[1]" and w["code"] == "ungrounded" for w in result["warnings"])
