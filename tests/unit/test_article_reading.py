"""The article's text-only analyses are read while the model answers, and grounding uses them as is."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection

import httpx
import pytest
from pytest_httpx import HTTPXMock

from factline.article_reading import ArticleReading
from factline.extraction import Extractor, assemble_extraction
from factline.llm import LLMClient
from factline.prompting import plan_extraction_calls, quote_candidates_for
from factline.recording import load_article_request
from schemas import ItemType, Usage
from tests.conftest import ARTICLES, COMPLETIONS_URL, make_settings
from tests.fakes.fake_llm import completion

REQUEST = load_article_request(ARTICLES / "004_8dd281839903a95c.txt")


async def test_the_article_is_read_after_its_request_is_sent_and_before_the_answer_arrives(
    httpx_mock: HTTPXMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        events.append("sent")
        await asyncio.sleep(0.05)
        events.append("answered")
        return httpx.Response(200, json=completion(json.loads(request.content)))

    read = ArticleReading.read

    def reading(self: ArticleReading, types: Collection[ItemType]) -> ArticleReading:
        events.append("read")
        return read(self, types)

    httpx_mock.add_callback(answer, url=COMPLETIONS_URL, is_reusable=True)
    monkeypatch.setattr(ArticleReading, "read", reading)
    settings = make_settings(extraction_calls="single")
    llm = LLMClient(settings)
    extractor = Extractor(llm, settings)
    await extractor.extract(REQUEST)  # the SDK's first call sets itself up for a while before sending
    events.clear()
    result = await extractor.extract(REQUEST)
    await llm.aclose()
    assert events == ["sent", "read", "answered"]
    assert result.events  # grounded against the reading


def test_a_reading_done_beforehand_grounds_exactly_as_one_done_on_demand() -> None:
    candidates = quote_candidates_for(REQUEST)
    [call] = plan_extraction_calls(REQUEST, candidates, "single")
    answer = completion(
        {
            "messages": call.messages,
            "response_format": {"json_schema": {"schema": call.response_model.model_json_schema()}},
        }
    )
    facts = call.response_model.model_validate_json(answer["choices"][0]["message"]["content"])
    usage = Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2, llm_calls=1)

    def assembled(reading: ArticleReading | None) -> dict[str, object]:
        result = assemble_extraction(
            REQUEST, facts, candidates=candidates, usage=usage, model="m", prompt_version="v",
            fuzzy_threshold=90, reading=reading,
        )  # fmt: skip
        return result.model_dump(exclude={"id", "created_at"})

    on_demand = assembled(None)
    assert on_demand == assembled(ArticleReading(REQUEST.text).read(REQUEST.types))
    assert on_demand["quotes"]
    assert on_demand["events"]
