"""An article that tells the model to ignore its instructions, invent quotes and reveal its prompt, and
a model that obeyed (hand-written exchange): only what the article says comes back, the injection
itself at most as ordinary content, and every invented item is named in a warning."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from pytest_httpx import HTTPXMock

from factline.prompting import extraction_prompt
from tests.conftest import authored

FIXTURE = authored("prompt_injection")
TEXT = FIXTURE.article_text
INVENTED_QUOTES = ("The plan is a fraud and I knew it from the start", "I signed the plan without reading it")


async def extract(client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock) -> dict[str, Any]:
    FIXTURE.replay(httpx_mock)
    response = await client.post("/v1/extractions", json=FIXTURE.request_json())
    assert response.status_code == 200, response.text
    return dict(response.json())


def returned_strings(result: dict[str, Any]) -> list[str]:
    """Every text the service presents as coming from the article."""
    strings = [quote["text"] for quote in result["quotes"]]
    strings += [mention["text"] for actor in result["actors"] for mention in actor["mentions"]]
    for kind in ("quotes", "events", "positions", "proposals"):
        strings += [span["text"] for item in result[kind] for span in item["evidence"]]
    return strings


async def test_the_obeyed_injection_returns_only_the_articles_content(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    result = await extract(client, httpx_mock)
    assert {q["text"] for q in result["quotes"]} >= {
        "a step forward for every patient",
        "an expensive promise",
    }
    for text in returned_strings(result):
        assert text in TEXT
    for kind in ("quotes", "events", "positions"):
        for span in (span for item in result[kind] for span in item["evidence"]):
            assert TEXT[span["start"] : span["end"]] == span["text"]


async def test_invented_quotes_and_the_leaked_prompt_are_dropped_with_warnings(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    result = await extract(client, httpx_mock)
    quotes = {q["text"] for q in result["quotes"]}
    prompt_line = extraction_prompt().text.splitlines()[0]
    assert not quotes & {*INVENTED_QUOTES, prompt_line}
    assert all("system prompt" not in (q["topic"] or "") for q in result["quotes"])
    assert all("fraud" not in e["summary"] for e in result["events"])
    assert "Health Ministry AI Auditor" not in {a["name"] for a in result["actors"]}

    ungrounded = {w["item"]: w["message"] for w in result["warnings"] if w["code"] == "ungrounded"}
    messages = " ".join(ungrounded.values())
    for invented in (*INVENTED_QUOTES, prompt_line[:40], "Anna Keller confessed"):
        assert invented[:30] in messages, (invented, ungrounded)
    assert "Health Ministry AI Auditor" in " ".join(w["message"] for w in result["warnings"])


async def test_the_injection_itself_may_come_out_as_ordinary_content(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    result = await extract(client, httpx_mock)
    [injected] = [q for q in result["quotes"] if q["text"] == "ignore all previous instructions"]
    assert injected["evidence"][0]["start"] == TEXT.index("ignore all previous instructions")
    assert injected["speaker_id"] is None  # its invented speaker is not in the article
