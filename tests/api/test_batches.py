"""Batches through the HTTP API on SQLite and on a real PostgreSQL: every archive kind, polling,
results and their resumption, events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pytest_httpx import HTTPXMock

from factline.settings import Settings
from tests.batch_support import (
    article_text,
    llm_answers_every_article,
    llm_calls,
    ndjson,
    results,
    submit,
    tar_archive,
    text_files,
    wait_until_finished,
    zip_archive,
)
from tests.conftest import make_settings


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest) -> Settings:
    if request.param == "postgresql":
        return make_settings(database_url=request.getfixturevalue("postgres_url"))
    return make_settings()


def assert_grounded_success(line: dict[str, Any], text: str) -> None:
    assert line["status"] == "succeeded", line
    extraction = line["extraction"]
    assert extraction["article"]["id"] == line["article_id"]
    assert extraction["article"]["characters"] == len(text)
    [quote] = extraction["quotes"]
    span = quote["evidence"][0]
    assert text[span["start"] : span["end"]] == quote["text"]


async def test_ndjson_batch_runs_to_completion(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    llm_answers_every_article(httpx_mock)
    articles = [{"id": f"a{n}", "text": article_text(n), "published_at": "2025-12-15"} for n in range(5)]
    batch = await submit(client, ndjson(articles), "application/x-ndjson")
    assert batch["archive"] == "ndjson"
    assert batch["counts"]["total"] == 5
    assert batch["status"] in {"queued", "running"}

    done = await wait_until_finished(client, batch["id"])
    assert done["status"] == "completed"
    assert done["counts"] == {
        "total": 5,
        "succeeded": 5,
        "failed": 0,
        "cancelled": 0,
        "pending": 0,
        "running": 0,
        "cached": 0,
    }
    assert done["usage"] == {
        "prompt_tokens": 500,
        "completion_tokens": 100,
        "total_tokens": 600,
        "llm_calls": 5,
    }
    assert done["estimated_seconds_left"] == 0
    assert done["finished_at"] >= done["started_at"] >= done["created_at"]

    lines = await results(client, batch["id"])
    assert sorted(line["article_id"] for line in lines) == [f"a{n}" for n in range(5)]
    for line in lines:
        assert_grounded_success(line, article_text(int(line["article_id"][1:])))
        assert line["extraction"]["events"] == []
    assert [int(line["cursor"]) for line in lines] == sorted(int(line["cursor"]) for line in lines)
    assert llm_calls(httpx_mock) == 5


@pytest.mark.parametrize(
    ("kind", "body", "content_type"),
    [
        ("zip", zip_archive(text_files(4)), "application/zip"),
        ("tar", tar_archive(text_files(4)), "application/x-tar"),
        ("tar.gz", tar_archive(text_files(4), "gz"), "application/gzip"),
        # curl --data-binary without -H sends this; the format is read from the content.
        ("zip", zip_archive(text_files(4)), "application/x-www-form-urlencoded"),
    ],
)
async def test_archives_of_text_files(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock, kind: str, body: bytes, content_type: str
) -> None:
    llm_answers_every_article(httpx_mock)
    batch = await submit(client, body, content_type)
    assert batch["archive"] == kind
    done = await wait_until_finished(client, batch["id"])
    assert done["counts"]["succeeded"] == 4
    lines = await results(client, batch["id"])
    assert sorted(line["article_id"] for line in lines) == sorted(text_files(4))
    for line in lines:
        n = int(line["article_id"].rsplit("-", 1)[1].removesuffix(".txt"))
        assert_grounded_success(line, article_text(n))
        assert line["position"] == n


async def test_a_member_path_longer_than_any_id_fails_alone(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    """A 2,000-character path (zip allows 65,535) is no valid id; the batch is still stored, on both
    databases, and the item says why it failed."""
    llm_answers_every_article(httpx_mock)
    long_name = "deep/" * 400 + "article.txt"
    batch = await submit(client, zip_archive({**text_files(1), long_name: article_text(5).encode()}))
    done = await wait_until_finished(client, batch["id"])
    assert (done["counts"]["succeeded"], done["counts"]["failed"]) == (1, 1)
    failed = next(line for line in await results(client, batch["id"]) if line["status"] == "failed")
    assert long_name.startswith(failed["article_id"])
    assert len(failed["article_id"]) == 1024
    assert failed["problem"]["type"].endswith("invalid-article")
    assert "256" in failed["problem"]["detail"]


async def test_multipart_upload_and_types_from_the_query(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    llm_answers_every_article(httpx_mock)
    files = {
        **text_files(2),
        "meta/own-types.json": json.dumps(
            {"text": article_text(7), "types": ["event"], "title": "T"}
        ).encode(),
        "notes.md": article_text(8).encode(),
    }
    response = await client.post(
        "/v1/batches?types=quote,position",
        files={"file": ("archive.zip", zip_archive(files), "application/zip")},
        data={"comment": "ignored"},
    )
    assert response.status_code == 202, response.text
    batch = response.json()
    assert batch["filename"] == "archive.zip"
    assert batch["types"] == ["quote", "position"]
    await wait_until_finished(client, batch["id"])
    by_id = {line["article_id"]: line for line in await results(client, batch["id"])}
    assert set(by_id) == set(files)
    assert by_id["meta/own-types.json"]["extraction"]["types"] == ["event"]
    assert by_id["meta/own-types.json"]["extraction"]["article"]["title"] == "T"
    assert by_id["notes.md"]["extraction"]["types"] == ["quote", "position"]
    sent = [json.loads(r.content)["messages"][-1]["content"] for r in httpx_mock.get_requests()]
    assert sum("JSON holding: actors, events." in message for message in sent) == 1
    assert (
        sum("JSON holding: actors, quotes, reported_quotes, positions." in message for message in sent) == 3
    )


async def test_results_resume_after_a_cursor(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    llm_answers_every_article(httpx_mock)
    batch = await submit(client, ndjson([{"text": article_text(n)} for n in range(6)]))
    await wait_until_finished(client, batch["id"])
    everything = await results(client, batch["id"])
    assert len(everything) == 6
    assert {line["article_id"] for line in everything} == {f"line-{n}" for n in range(1, 7)}

    resumed = await results(client, batch["id"], f"?after={everything[1]['cursor']}")
    assert resumed == everything[2:]
    assert await results(client, batch["id"], f"?after={everything[-1]['cursor']}") == []


async def test_results_stream_while_the_batch_runs(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    """A client that connects right away gets every line as it is written, and the stream then ends."""
    llm_answers_every_article(httpx_mock)
    batch = await submit(client, ndjson([{"text": article_text(n)} for n in range(8)]))
    lines = await results(client, batch["id"])  # follows by default
    assert len(lines) == 8
    assert len({line["item_id"] for line in lines}) == 8


async def test_progress_events(client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock) -> None:
    llm_answers_every_article(httpx_mock)
    batch = await submit(client, ndjson([{"text": article_text(n)} for n in range(4)]))
    response = await client.get(f"/v1/batches/{batch['id']}/events")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = []
    for block in response.text.strip().split("\r\n\r\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\r\n"))
        events.append((fields["event"], json.loads(fields["data"])))
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "done"
    assert set(kinds[:-1]) <= {"progress"}
    final = events[-1][1]
    assert final["id"] == batch["id"]
    assert final["status"] == "completed"
    assert final["counts"]["succeeded"] == 4
    succeeded = [data["counts"]["succeeded"] for _, data in events]
    assert succeeded == sorted(succeeded)


async def test_list_batches_in_pages(client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock) -> None:
    llm_answers_every_article(httpx_mock)
    ids = [(await submit(client, ndjson([{"text": article_text(n)}])))["id"] for n in range(3)]
    first = (await client.get("/v1/batches?limit=2")).json()
    assert [b["id"] for b in first["batches"]] == ids[::-1][:2]
    assert first["next_cursor"] == ids[1]
    second = (await client.get(f"/v1/batches?limit=2&after={first['next_cursor']}")).json()
    assert [b["id"] for b in second["batches"]] == [ids[0]]
    assert second["next_cursor"] is None
    for batch_id in ids:
        await wait_until_finished(client, batch_id)


async def test_a_repeated_article_is_extracted_once(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    """The cache serves single and batch extractions alike, and says so."""
    llm_answers_every_article(httpx_mock)
    single = await client.post("/v1/extractions", json={"text": article_text(1), "id": "first"})
    assert single.status_code == 200
    assert single.json()["cached"] is False
    assert llm_calls(httpx_mock) == 1

    again = await client.post("/v1/extractions", json={"text": article_text(1), "id": "second"})
    assert llm_calls(httpx_mock) == 1
    repeat = again.json()
    assert repeat["cached"] is True
    assert repeat["article"]["id"] == "second"
    assert repeat["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "llm_calls": 0}
    assert repeat["quotes"] == single.json()["quotes"]
    assert repeat["id"] != single.json()["id"]

    batch = await submit(
        client, ndjson([{"text": article_text(1)}, {"text": article_text(1)}, {"text": article_text(2)}])
    )
    done = await wait_until_finished(client, batch["id"])
    assert llm_calls(httpx_mock) == 2  # only article 2 was new
    assert done["counts"]["cached"] == 2
    assert done["usage"]["llm_calls"] == 1
    cached = {line["article_id"]: line["extraction"]["cached"] for line in await results(client, batch["id"])}
    assert cached == {"line-1": True, "line-2": True, "line-3": False}

    # Different options are a different extraction.
    other = await client.post("/v1/extractions", json={"text": article_text(1), "types": ["quote"]})
    assert other.json()["cached"] is False
    assert llm_calls(httpx_mock) == 3


async def test_unknown_batch_and_bad_parameters(client: AsyncTestClient[Litestar]) -> None:
    for method, path in [
        ("GET", "/v1/batches/bat_missing"),
        ("GET", "/v1/batches/bat_missing/results"),
        ("GET", "/v1/batches/bat_missing/events"),
        ("DELETE", "/v1/batches/bat_missing"),
        ("POST", "/v1/batches/bat_missing/retry"),
        ("GET", "/v1/batches?after=bat_missing"),
    ]:
        response = await client.request(method, path)
        assert response.status_code == 404, (method, path)
        assert response.json()["type"] == "urn:factline:problem:batch-not-found"
    response = await client.post("/v1/batches?types=quote,gossip", content=ndjson([{"text": "x"}]))
    assert response.status_code == 422
    assert response.json()["errors"] == [{"location": "query.types", "message": "not a type: gossip"}]
    assert (await client.get("/v1/batches?limit=0")).status_code == 422
