"""One actor per person through the HTTP API, whatever the model calls him: name, surname, title, pronoun."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from pytest_httpx import HTTPXMock

from tests.conftest import authored

FIXTURE = authored("actor_titles_pronouns")


async def test_every_item_points_at_the_one_pistorius(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    FIXTURE.replay(httpx_mock)
    response = await client.post("/v1/extractions", json=FIXTURE.request_json())
    assert response.status_code == 200, response.text
    result = response.json()
    [pistorius] = [a for a in result["actors"] if "Pistorius" in a["name"]]
    assert [a["name"] for a in result["actors"]] == ["Boris Pistorius", "Zelensky"]
    # The model's four quotes and two the text reports itself ("he explained that", "He emphasized that").
    assert [q["speaker_id"] for q in result["quotes"]] == [pistorius["id"]] * 6
    assert [q["verb"] for q in result["quotes"] if q["text"].startswith(("diplomacy", "alliance"))] == [
        "explained",
        "emphasized",
    ]
    assert [p["holder_id"] for p in result["positions"]] == [pistorius["id"], result["actors"][1]["id"]]
    assert result["proposals"][0]["proposer_ids"] == [pistorius["id"]]
    mentions = {m["text"] for m in pistorius["mentions"]}
    assert {
        "Boris Pistorius",
        "Pistorius",
        "the minister",
        "The minister",
        "He",
    } <= mentions
    text = FIXTURE.article_text
    assert all(text[m["start"] : m["end"]] == m["text"] for m in pistorius["mentions"])
    assert not [w for w in result["warnings"] if w["code"] == "unresolved_actor"]
