"""The five sample articles end to end through the HTTP API, on exchanges recorded from a live model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pytest_httpx import HTTPXMock

from api.app import create_app
from factline.quote_candidates import find_quote_candidates
from factline.settings import Settings
from tests.conftest import ARTICLES, RECORDINGS, Recording, load_recording

IDS = [path.stem for path in RECORDINGS]


@pytest.fixture(params=RECORDINGS, ids=IDS)
def recording(request: pytest.FixtureRequest) -> Recording:
    path: Path = request.param
    return load_recording(path)


@pytest.fixture
def settings(recording: Recording) -> Settings:
    return recording.settings()


async def extract(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock, recording: Recording
) -> dict[str, Any]:
    recording.replay(httpx_mock)
    response = await client.post("/v1/extractions", json=recording.request_json())
    assert response.status_code == 200, response.text
    return dict(response.json())


def model_answer(recording: Recording) -> dict[str, list[Any]]:
    """The answers of every call merged: what the result was built from."""
    answer: dict[str, list[Any]] = {}
    for exchange in recording.exchanges:
        content = exchange["response"]["json"]["choices"][0]["message"]["content"]
        for name, items in json.loads(content).items():
            answer.setdefault(name, []).extend(items)
    return answer


def test_every_sample_article_has_a_recording() -> None:
    assert sorted(p.stem for p in ARTICLES.glob("*.txt")) == IDS


def test_recordings_say_which_model_answered_and_when(recording: Recording) -> None:
    recorded = recording.data["recorded"]
    assert recorded["model"]
    assert len(recorded["model_sha256"]) == 64
    assert recorded["started_at"].startswith("20")
    assert not recording.authored
    for exchange in recording.exchanges:
        assert exchange["request"]["json"]["model"] == recorded["model"]


async def test_result_is_grounded_in_the_article(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock, recording: Recording
) -> None:
    result = await extract(client, httpx_mock, recording)
    text = recording.article_text
    actor_ids = {actor["id"] for actor in result["actors"]}
    for actor in result["actors"]:
        assert actor["mentions"], actor
        for span in actor["mentions"]:
            assert text[span["start"] : span["end"]] == span["text"]
    for kind in ("quotes", "events", "positions", "proposals"):
        for item in result[kind]:
            assert item["evidence"], item
            for span in item["evidence"]:
                assert text[span["start"] : span["end"]] == span["text"]
            for key in ("speaker_id", "holder_id"):
                assert item.get(key) is None or item[key] in actor_ids
            for key in ("participant_ids", "proposer_ids", "supporter_ids", "opponent_ids"):
                assert set(item.get(key, [])) <= actor_ids
    for quote in result["quotes"]:
        assert quote["text"] == quote["evidence"][0]["text"]
        if quote["kind"] in ("direct", "partial"):
            assert quote["text"] in text  # word for word


async def test_nothing_the_model_returned_is_lost_silently(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock, recording: Recording
) -> None:
    result = await extract(client, httpx_mock, recording)
    answer = model_answer(recording)
    lists = {kind: [kind] for kind in ("events", "positions", "proposals")} | {
        "quotes": ["quotes", "reported_quotes"]
    }
    for kind, names in lists.items():
        dropped = [
            w
            for w in result["warnings"]
            if w["item"].split("[")[0] in names and w["code"] in {"ungrounded", "duplicate", "page_chrome"}
        ]
        not_quotes = (
            [q for q in answer.get("quotes", []) if q["kind"] == "not_a_quote"] if kind == "quotes" else []
        )
        given = sum(len(answer.get(name, [])) for name in names)
        # Quotes the text's own cues found where the model passed over them are none of the model's items.
        from_model = [item for item in result[kind] if item.get("found_by", "model") == "model"]
        assert len(from_model) + len(dropped) + len(not_quotes) == given, kind
    for quote in result["quotes"]:
        if quote["found_by"] == "text":
            cue = quote["speaker_cue"]
            assert quote["speaker_id"] is not None
            assert recording.article_text[cue["start"] : cue["end"]] == cue["text"]


async def test_every_quote_candidate_is_read_or_reported_unread(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock, recording: Recording
) -> None:
    result = await extract(client, httpx_mock, recording)
    candidates = find_quote_candidates(recording.article_text)
    first_reading: dict[int, str] = {}
    for reading in model_answer(recording).get("quotes", []):
        if 1 <= reading["n"] <= len(candidates):
            first_reading.setdefault(reading["n"], reading["kind"])
    unread = [w for w in result["warnings"] if w["code"] == "unread"]
    returned = {(q["evidence"][0]["start"], q["evidence"][0]["end"]) for q in result["quotes"]}
    # A candidate whose speaker the text names is a quote whatever the model's reading, or without one.
    from_text = {
        (q["evidence"][0]["start"], q["evidence"][0]["end"])
        for q in result["quotes"]
        if q["found_by"] == "text" and q["speaker_cue"] is not None
    }
    taken_unread = [
        n
        for n, candidate in enumerate(candidates, start=1)
        if n not in first_reading and (candidate.start, candidate.end) in from_text
    ]
    assert len(first_reading) + len(unread) + len(taken_unread) == len(candidates)
    in_page_chrome = [w["message"] for w in result["warnings"] if w["code"] == "page_chrome"]
    for n, kind in first_reading.items():
        candidate = candidates[n - 1]
        kept = (candidate.start, candidate.end) in returned
        dropped = any(f"“{candidate.text[:200]}”" in message for message in in_page_chrome)
        if kind == "not_a_quote":
            assert not kept or (candidate.start, candidate.end) in from_text
        else:
            assert kept != dropped


async def test_usage_counts_every_recorded_call(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock, recording: Recording
) -> None:
    result = await extract(client, httpx_mock, recording)
    usages = [exchange["response"]["json"]["usage"] for exchange in recording.exchanges]
    assert result["usage"] == {
        "prompt_tokens": sum(u["prompt_tokens"] for u in usages),
        "completion_tokens": sum(u["completion_tokens"] for u in usages),
        "total_tokens": sum(u["prompt_tokens"] + u["completion_tokens"] for u in usages),
        "llm_calls": len(usages),
    }
    assert result["usage"] == recording.data["summary"]["usage"]
    assert result["model"] == recording.data["recorded"]["model"]
    assert result["prompt_version"] == recording.data["prompt_version"]


async def test_replays_are_deterministic(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock, recording: Recording
) -> None:
    first = await extract(client, httpx_mock, recording)
    # A second app with its own database: the same app would answer from its extraction cache.
    async with AsyncTestClient(app=create_app(recording.settings())) as fresh_client:
        second = await extract(fresh_client, httpx_mock, recording)
    for result in (first, second):
        del result["id"], result["created_at"]
    assert first == second
