"""Grounding through the HTTP API, on a hand-written exchange built to hit every rule."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from pytest_httpx import HTTPXMock

from tests.conftest import authored

FIXTURE = authored("grounding_cases")
TEXT = FIXTURE.article_text


async def extract(client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock) -> dict[str, Any]:
    FIXTURE.replay(httpx_mock)
    response = await client.post("/v1/extractions", json=FIXTURE.request_json())
    assert response.status_code == 200, response.text
    return dict(response.json())


def all_spans(result: dict[str, Any]) -> list[dict[str, Any]]:
    spans = [m for actor in result["actors"] for m in actor["mentions"]]
    for kind in ("quotes", "events", "positions", "proposals"):
        spans += [span for item in result[kind] for span in item["evidence"]]
    return spans


async def test_every_span_indexes_the_submitted_text(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    result = await extract(client, httpx_mock)
    spans = all_spans(result)
    assert spans
    for span in spans:
        assert TEXT[span["start"] : span["end"]] == span["text"]
    # Non-ASCII text precedes the quotes: offsets are code points, not UTF-8 bytes.
    first_quote = result["quotes"][0]["evidence"][0]
    assert len(TEXT[: first_quote["start"]].encode()) > first_quote["start"]


async def test_a_quote_repeated_in_the_text_is_two_quotes_at_two_places(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    result = await extract(client, httpx_mock)
    fund = [q for q in result["quotes"] if q["text"] == "We will fund it,"]
    assert len(fund) == 2
    starts = [q["evidence"][0]["start"] for q in fund]
    assert starts == [TEXT.index("We will fund it,"), TEXT.rindex("We will fund it,")]
    assert all(q["text"] == q["evidence"][0]["text"] for q in result["quotes"])


async def test_quote_candidates_keep_their_offsets_and_take_the_models_reading(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    result = await extract(client, httpx_mock)
    [step] = [q for q in result["quotes"] if "step forward" in q["text"]]
    assert step["text"] == "a step forward"
    assert step["kind"] == "partial"
    assert step["evidence"][0] | {"start": 0} == {
        "start": 0,
        "end": TEXT.index("a step forward") + len("a step forward"),
        "text": "a step forward",
        "match": "exact",
        "score": 100.0,
    }
    [reported] = [q for q in result["quotes"] if q["kind"] == "indirect"]
    assert reported["text"] == "the clinic would close"
    assert reported["verb"] == "warned"


async def test_straight_quotes_from_the_model_ground_on_curly_quotes_in_the_text(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    result = await extract(client, httpx_mock)
    [position] = result["positions"]
    assert position["evidence"][0]["text"] == "the plan was “a step forward”"
    assert position["evidence"][0]["match"] == "normalized"


async def test_hallucinations_and_duplicates_are_dropped_with_warnings(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    result = await extract(client, httpx_mock)
    warnings = {(w["code"], w["item"]) for w in result["warnings"]}
    assert ("ungrounded", "quotes[3]") in warnings  # there is no quote candidate 9
    assert ("duplicate", "quotes[4]") in warnings  # candidate 3 read a second time
    assert ("ungrounded", "reported_quotes[1]") in warnings  # "We will never surrender..." is not in the text
    assert ("duplicate", "reported_quotes[2]") in warnings  # a quote candidate already holds it
    assert ("ungrounded", "events[2]") in warnings  # "Keller resigned on Friday"
    assert ("ungrounded", "actors[2]") in warnings  # Olaf Scholz is never named
    assert ("unresolved_actor", "events[1]") in warnings
    assert ("unresolved_date", "events[3]") in warnings  # "on December 3" is not in the text
    assert not any("surrender" in q["text"] for q in result["quotes"])
    assert len(result["quotes"]) == 4
    # Nothing is lost silently: every model item is either returned or warned about.
    returned = (
        len(result["quotes"]) + len(result["events"]) + len(result["positions"]) + len(result["proposals"])
    )
    dropped = sum(
        1
        for w in result["warnings"]
        if w["code"] in {"ungrounded", "duplicate"} and "actors" not in w["item"]
    )
    assert returned + dropped == 5 + 3 + 4 + 1 + 1


async def test_actors_are_resolved_and_referenced_by_id(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    result = await extract(client, httpx_mock)
    actors = {a["name"]: a for a in result["actors"]}
    assert set(actors) >= {"Anna Keller", "Médecins Sans Frontières", "the council"}
    assert "Olaf Scholz" not in actors
    keller = actors["Anna Keller"]
    assert [m["text"] for m in keller["mentions"]] == ["Anna Keller", "Keller", "Keller"]
    speakers = {q["text"]: q["speaker_id"] for q in result["quotes"]}
    assert speakers == {
        "the clinic would close": actors["Médecins Sans Frontières"]["id"],
        "a step forward": keller["id"],
        "We will fund it,": keller["id"],
    }
    [proposal] = result["proposals"]
    assert proposal["supporter_ids"] == [keller["id"]]
    assert proposal["opponent_ids"] == [actors["the council"]["id"]]
    ids = [a["id"] for a in result["actors"]]
    assert len(ids) == len(set(ids))


async def test_event_dates_are_resolved_from_the_text_and_publication_date(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    result = await extract(client, httpx_mock)
    by_text = {e["date_text"]: e for e in result["events"]}
    assert by_text["on Monday"]["date"] == "2025-12-15"
    assert by_text["on Monday"]["date_precision"] == "day"
    assert by_text["in March"]["date"] == "2025-03-01"
    assert by_text["in March"]["date_precision"] == "month"
    assert by_text[None]["date"] is None  # the invented "on December 3" was removed, not resolved


async def test_items_are_numbered_in_text_order(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    result = await extract(client, httpx_mock)
    for kind, prefix in (("quotes", "quote"), ("events", "event")):
        starts = [item["evidence"][0]["start"] for item in result[kind]]
        assert starts == sorted(starts)
        assert [item["id"] for item in result[kind]] == [f"{prefix}_{n}" for n in range(1, len(starts) + 1)]


async def test_usage_and_provenance_are_reported(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    result = await extract(client, httpx_mock)
    assert result["usage"] == {
        "prompt_tokens": 612,
        "completion_tokens": 540,
        "total_tokens": 1152,
        "llm_calls": 1,
    }
    assert result["model"] == "qwen2.5-coder-1.5b-instruct-q4_k_m"
    assert result["prompt_version"].startswith("extraction-v3+")
    assert result["article"]["characters"] == len(TEXT)
    assert result["article"]["published_at"] == "2025-12-15"
    assert result["id"].startswith("ext_")


async def test_offsets_index_the_text_exactly_as_sent_whitespace_included(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    FIXTURE.replay(httpx_mock)
    sent = "\n\n  " + TEXT + "\n"
    response = await client.post(
        "/v1/extractions?published_at=2025-12-15",
        content=sent.encode("utf-16"),
        headers={"content-type": "text/plain; charset=utf-16"},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["article"]["characters"] == len(sent)
    spans = all_spans(result)
    assert spans
    for span in spans:
        assert sent[span["start"] : span["end"]] == span["text"]
    assert result["quotes"][1]["evidence"][0]["start"] == sent.index("a step forward")
