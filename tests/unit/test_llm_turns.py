"""An article's calls (one per type) reach the LLM back to back, even with other articles in flight:
a one-slot server (the embedded model) then keeps the article in its prompt cache between them."""

from __future__ import annotations

import asyncio
import json

import httpx
from pytest_httpx import HTTPXMock

from factline.extraction import Extractor
from factline.llm import LLMClient
from schemas import ExtractionRequest
from tests.conftest import COMPLETIONS_URL, make_settings
from tests.fakes.fake_llm import completion

ARTICLES = {
    name: f"{name} met the delegation in Berlin on Monday. {name} said the talks had gone well."
    for name in ("Anna Berg", "Boris Kahl", "Clara Dorn")
}


async def test_calls_of_one_article_are_not_interleaved_with_another_articles(httpx_mock: HTTPXMock) -> None:
    order: list[str] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        [name] = [name for name in ARTICLES if any(name in m["content"] for m in body["messages"])]
        order.append(name)
        await asyncio.sleep(0.02)  # the other articles' calls are waiting for the slot meanwhile
        return httpx.Response(200, json=completion(body))

    httpx_mock.add_callback(answer, url=COMPLETIONS_URL, is_reusable=True)
    settings = make_settings(extraction_calls="per_type", llm_max_concurrency=1)
    llm = LLMClient(settings)
    extractor = Extractor(llm, settings)
    results = await asyncio.gather(*(extractor.extract(ExtractionRequest(text=t)) for t in ARTICLES.values()))
    await llm.aclose()
    assert [result.usage.llm_calls for result in results] == [4, 4, 4]  # one call per type
    runs = [order[n : n + 4] for n in range(0, len(order), 4)]
    assert all(len(set(run)) == 1 for run in runs), order
    assert {run[0] for run in runs} == set(ARTICLES)
