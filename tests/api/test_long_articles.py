"""A long article (the five samples, each under a date line) split into parts, extracted concurrently
and merged: against the fake LLM server process, and with one part failing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from pytest_httpx import HTTPXMock

from api.app import create_app
from factline.chunking import plan_chunks
from factline.recording import load_article_request
from factline.tokens import BpeCounter, _encoding
from tests.conftest import ARTICLES, COMPLETIONS_URL, make_settings
from tests.fakes.fake_llm import completion, running_fake_llm

NAMES = sorted(p.name for p in ARTICLES.glob("*.txt"))
SECTIONS = [
    f"Published {load_article_request(ARTICLES / name).published_at}\n{(ARTICLES / name).read_text('utf-8')}"
    for name in NAMES
]
LONG = "\n".join(SECTIONS)
BUDGET, OVERLAP = 1200, 200


def section_of(offset: int) -> int:
    """Which of the five articles an offset of the long text falls in."""
    return sum(1 for start in (LONG.index(section) for section in SECTIONS[1:]) if offset >= start)


async def chunk_count() -> int:
    return len(await plan_chunks(LONG, BUDGET, OVERLAP, BpeCounter("cl100k_base")))


def check_spans(result: dict[str, Any]) -> list[dict[str, Any]]:
    spans = [span for actor in result["actors"] for span in actor["mentions"]]
    for kind in ("quotes", "events", "positions", "proposals"):
        spans += [span for item in result[kind] for span in item["evidence"]]
    for span in spans:
        assert LONG[span["start"] : span["end"]] == span["text"]
    return spans


@pytest.mark.e2e
async def test_a_long_article_is_split_extracted_concurrently_and_merged() -> None:
    parts = await chunk_count()
    assert parts >= 4
    with running_fake_llm(latency_ms=300) as fake:
        settings = make_settings(
            llm_base_url=fake.base_url, chunk_budget_tokens=BUDGET, chunk_overlap_tokens=OVERLAP
        )
        async with AsyncTestClient(app=create_app(settings)) as client:
            response = await client.post("/v1/extractions", json={"text": LONG, "published_at": "2025-12-23"})
        answered = fake.completions()
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["usage"]["llm_calls"] == answered == parts
    spans = check_spans(result)
    # Offsets are relative to the whole text: facts come from every one of the five articles.
    assert {section_of(span["start"]) for span in spans} == set(range(5))
    # Actors are unified across parts: one Boris Pistorius, mentioned in several articles.
    [pistorius] = [a for a in result["actors"] if a["name"] == "Boris Pistorius"]
    assert len({section_of(m["start"]) for m in pistorius["mentions"]}) >= 3
    # A quote seen by two overlapping parts is kept once, the second reported as a duplicate.
    quote_spans = [(q["evidence"][0]["start"], q["evidence"][0]["end"]) for q in result["quotes"]]
    assert len(quote_spans) == len(set(quote_spans))
    assert any(w["code"] == "duplicate" and w["item"].startswith("quotes[") for w in result["warnings"])
    assert not [w for w in result["warnings"] if w["code"] == "chunk_failed"]


async def test_one_failing_part_is_a_warning_not_a_failed_article(httpx_mock: HTTPXMock) -> None:
    parts = await chunk_count()
    failing = "Diplomacy Watch: The musical chairs"  # article 002 stands in exactly one part

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if any(failing in message["content"] for message in body["messages"]):
            return httpx.Response(500, json={"error": {"message": "model crashed"}})
        return httpx.Response(200, json=completion(body))

    httpx_mock.add_callback(answer, url=COMPLETIONS_URL, is_reusable=True)
    settings = make_settings(chunk_budget_tokens=BUDGET, chunk_overlap_tokens=OVERLAP)
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.post("/v1/extractions", json={"text": LONG, "published_at": "2025-12-23"})
    assert response.status_code == 200, response.text
    result = response.json()
    [lost] = [w for w in result["warnings"] if w["code"] == "chunk_failed"]
    assert "HTTP 500" in lost["message"]
    assert len(httpx_mock.get_requests()) == parts
    assert result["usage"]["llm_calls"] == parts - 1  # completions: the failed call returned none
    spans = check_spans(result)
    assert {section_of(span["start"]) for span in spans} >= {0, 1, 3, 4}
    assert not any(span["text"].startswith("Diplomacy Watch") for span in spans)
    # An incomplete result is not cached: the same article asked again calls the model again.
    async with AsyncTestClient(app=create_app(settings)) as client:
        first = await client.post("/v1/extractions", json={"text": LONG, "published_at": "2025-12-23"})
        again = await client.post("/v1/extractions", json={"text": LONG, "published_at": "2025-12-23"})
    assert first.json()["cached"] is False
    assert again.json()["cached"] is False


async def test_when_every_part_fails_the_article_fails(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=COMPLETIONS_URL, status_code=500, json={"error": {}}, is_reusable=True)
    settings = make_settings(chunk_budget_tokens=BUDGET, chunk_overlap_tokens=OVERLAP)
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.post("/v1/extractions", json={"text": LONG, "published_at": "2025-12-23"})
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("application/problem+json")
    assert len(httpx_mock.get_requests()) == await chunk_count()


async def test_the_service_takes_requests_only_once_its_tokenizer_is_loaded() -> None:
    """Loaded at the first long article instead, it stalled that request and all behind it."""
    _encoding.cache_clear()
    async with AsyncTestClient(app=create_app(make_settings(chunk_tokenizer="o200k_base"))) as client:
        assert _encoding.cache_info().currsize == 1
        assert (await client.get("/health")).status_code == 200


@pytest.mark.e2e
async def test_an_article_sent_before_its_count_and_over_budget_is_withdrawn_and_split() -> None:
    """Within 1.5 bytes a token of the budget, the article goes out before its tokens are counted;
    in rare symbols it is over budget after all: that call is withdrawn, and the parts are sent."""
    budget = 256
    text = "\n".join("⺀⺁⺂" * 10 for _ in range(4))  # a token a byte: 90 bytes and tokens a line
    [counted] = await BpeCounter("cl100k_base").count([text])
    assert budget < len(text.encode()) <= budget * 1.5
    assert counted > budget
    parts = await plan_chunks(text, budget, 0, BpeCounter("cl100k_base"))
    assert len(parts) == 2
    with running_fake_llm(latency_ms=300) as fake:
        settings = make_settings(
            llm_base_url=fake.base_url, chunk_budget_tokens=budget, chunk_overlap_tokens=0
        )
        async with AsyncTestClient(app=create_app(settings)) as client:
            response = await client.post("/v1/extractions", json={"text": text})
        asked = fake.completions()
    assert response.status_code == 200, response.text
    result = response.json()
    # Each part was answered; the withdrawn call returned nothing (it may not even have gone out).
    assert result["usage"]["llm_calls"] == len(parts)
    assert asked - len(parts) in (0, 1)
    assert [w for w in result["warnings"] if w["code"] == "chunk_failed"] == []
