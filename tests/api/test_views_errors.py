"""Client errors of the views are problem+json: unknown batches, bad cursors, bad filters."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pytest_httpx import HTTPXMock

from tests.batch_support import article_text, llm_answers_every_article, ndjson, submit, wait_until_finished

VIEWS = ["actors", "timeline", "proposals", "positions"]


@pytest.mark.parametrize("view", VIEWS)
async def test_an_unknown_batch_is_a_404_problem(client: AsyncTestClient[Litestar], view: str) -> None:
    response = await client.get(f"/v1/views/{view}", params={"batch": "bat_nope"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "urn:factline:problem:batch-not-found"


async def test_bad_queries_are_422_problems(client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock) -> None:
    llm_answers_every_article(httpx_mock)
    batch = await submit(client, ndjson([{"id": "a", "text": article_text(1)}]), "application/x-ndjson")
    await wait_until_finished(client, batch["id"])
    for view, params in [
        ("timeline", {"after": "yesterday~x"}),
        ("proposals", {"after": "prp_x"}),
        ("actors", {"since": "2025-12-10", "until": "2025-12-01"}),
        ("actors", {"since": "not a date"}),
        ("actors", {"limit": "0"}),
        ("actors", {"batch": ""}),
    ]:
        response = await client.get(f"/v1/views/{view}", params={"batch": batch["id"], **params})
        assert response.status_code == 422, (view, params, response.text)
        assert response.json()["type"] == "urn:factline:problem:invalid-request"


async def test_ndjson_pages_carry_the_next_cursor_in_a_header(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    llm_answers_every_article(httpx_mock)
    articles = [{"id": f"a{n}", "text": article_text(n), "published_at": "2025-12-15"} for n in range(3)]
    batch = await submit(client, ndjson(articles), "application/x-ndjson")
    await wait_until_finished(client, batch["id"])
    response = await client.get(
        "/v1/views/actors",
        params={"batch": batch["id"], "limit": 1},
        headers={"accept": "application/x-ndjson"},
    )
    assert response.headers["content-type"].startswith("application/x-ndjson")
    [line] = response.text.splitlines()
    assert '"key":"anna weber"' in line
    assert "next-cursor" not in response.headers  # one actor: the last page
    whole = (await client.get("/v1/views/actors", params={"batch": batch["id"]})).json()
    [weber] = whole["actors"]
    assert (weber["article_count"], weber["quote_count"]) == (3, 3)
