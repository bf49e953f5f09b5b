"""Hostile and broken input that tests/api/test_errors.py and the batch tests do not already cover.

Each gets its own 4xx problem, none a 500, and the app keeps serving after it. Big archives and bombs
are built here at run time; none is committed.
"""

from __future__ import annotations

import io
import json
import struct
import tarfile
import time
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pytest_httpx import HTTPXMock

from tests.api.test_errors import assert_problem, assert_still_serving
from tests.batch_support import EMPTY_FACTS, completion, zip_archive
from tests.conftest import COMPLETIONS_URL

ARTICLE = "Berlin – The ministers met this weekend in Bonn and agreed that the bridge will be rebuilt."

# --- fields of the wrong type, and dates no calendar has ------------------------------------------


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"published_at": 0}, "body.published_at"),  # pydantic alone would read 1970-01-01
        ({"published_at": 1765756800.5}, "body.published_at"),
        ({"published_at": True}, "body.published_at"),
        ({"published_at": ["2025-12-15"]}, "body.published_at"),
        ({"published_at": "0000-01-01"}, "body.published_at"),
        ({"published_at": "10000-01-01"}, "body.published_at"),
        ({"published_at": "2025-13-01"}, "body.published_at"),
        ({"published_at": "2025-12-15T25:00:00Z"}, "body.published_at"),
        ({"types": "quote"}, "body.types"),
        ({"types": [1]}, "body.types.0"),
        ({"title": 5}, "body.title"),
        ({"id": {"nested": "object"}}, "body.id"),
        ({"url": ["https://example.org"]}, "body.url"),
        ({"text": None}, "body.text"),
        ({"text": ["Many", "parts"]}, "body.text"),
        ({"text": "x" * 10, "language": "e"}, "body.language"),
        ({"text": "x" * 10, "id": "i" * 257}, "body.id"),
    ],
)
async def test_fields_of_the_wrong_type_are_refused(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock, fields: dict[str, Any], location: str
) -> None:
    response = await client.post("/v1/extractions", json={"text": ARTICLE, **fields})
    problem = assert_problem(response, 422, "invalid-request")
    assert location in [error["location"] for error in problem["errors"]], problem
    assert not httpx_mock.get_requests()
    await assert_still_serving(client, httpx_mock)


@pytest.mark.parametrize(
    "published_at", ["0001-01-01", "0001-01-02", "9999-12-31", "9999-12-31T23:59:59-12:00"]
)
async def test_dates_at_the_ends_of_the_calendar_extract_without_inventing_dates(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock, published_at: str
) -> None:
    """'this weekend' of 0001-01-01 lies before the calendar's first day: it stays unresolved."""
    event = {
        "summary": "Ministers agreed to rebuild the bridge",
        "excerpt": "agreed that the bridge will be rebuilt",
        "date_text": "this weekend",
        "location": "Bonn",
        "participants": [],
    }
    httpx_mock.add_response(url=COMPLETIONS_URL, json=completion({**EMPTY_FACTS, "events": [event]}))
    response = await client.post(
        "/v1/extractions", json={"text": ARTICLE, "published_at": published_at, "types": ["event"]}
    )
    assert response.status_code == 200, response.text
    [extracted] = response.json()["events"]
    if published_at.startswith("0001"):
        assert extracted["date"] is None, extracted
        assert "unresolved_date" in [warning["code"] for warning in response.json()["warnings"]]
    await assert_still_serving(client, httpx_mock)


# --- many tiny articles -----------------------------------------------------------------------


async def test_many_tiny_articles_in_one_extraction_request(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    tiny = [{"text": "a"}] * 50_000
    assert_problem(await client.post("/v1/extractions", json=tiny), 422, "invalid-request")
    many = [{"text": "a"}] * 100_000  # 1.3 MB: more than the largest article needs, however encoded
    assert_problem(await client.post("/v1/extractions", json=many), 413, "body-too-large")
    assert not httpx_mock.get_requests()
    await assert_still_serving(client, httpx_mock)


def ndjson_of_tiny_articles(count: int) -> bytes:
    return b'{"text": "a"}\n' * count


def zip_of(count: int, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(count):
            archive.writestr(f"articles/{n}.txt", content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "status", "slug", "detail_part"),
    [
        # One more article than the default limit (100 000): refused before any is stored.
        (lambda: ndjson_of_tiny_articles(100_001), 413, "archive-too-large", "100000"),
        (lambda: zip_of(100_001, b"a"), 413, "archive-too-large", "100000"),
        # 100 000 empty files hold no article (empty files are skipped, as empty lines are).
        (lambda: zip_of(100_000, b""), 400, "malformed-archive", "no articles"),
    ],
    ids=["ndjson-100001-tiny", "zip-100001-tiny", "zip-100000-empty"],
)
async def test_archives_of_too_many_or_only_empty_articles(
    client: AsyncTestClient[Litestar],
    httpx_mock: HTTPXMock,
    body: Callable[[], bytes],
    status: int,
    slug: str,
    detail_part: str,
) -> None:
    content = body()  # built here, not when the tests are collected
    started = time.perf_counter()
    response = await client.post("/v1/batches", content=content)
    problem = assert_problem(response, status, slug)
    assert detail_part in problem["detail"]
    # Refused by a quick pass over the archive, not after storing 100 000 items (about a minute).
    assert time.perf_counter() - started < 30
    assert (await client.get("/v1/batches")).json()["batches"] == []
    await assert_still_serving(client, httpx_mock)


async def test_a_thousand_tiny_articles_are_accepted(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/v1/batches?types=quote", content=ndjson_of_tiny_articles(1_000))
    assert response.status_code == 202, response.text
    assert response.json()["counts"]["total"] == 1_000
    assert (await client.delete(response.headers["location"])).status_code == 200


# --- bombs and lies ---------------------------------------------------------------------------


def tar_gz_bomb(size: int) -> bytes:
    """One file of `size` zero bytes: about a thousandth of that once compressed."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        member = tarfile.TarInfo("bomb.txt")
        member.size = size
        archive.addfile(member, io.BytesIO(bytes(size)))
    return buffer.getvalue()


def zip_that_understates_its_size(real_size: int) -> bytes:
    """A zip whose headers say its one file has 10 bytes while it inflates to `real_size`."""
    data = bytearray(zip_archive({"liar.txt": b"a" * real_size}))
    for signature, size_offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.index(signature)
        data[at + size_offset : at + size_offset + 4] = struct.pack("<I", 10)
    return bytes(data)


async def test_a_tar_gz_bomb_is_refused_at_the_default_limits(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    bomb = tar_gz_bomb(64 * 1024 * 1024)
    assert len(bomb) < 200_000
    problem = assert_problem(await client.post("/v1/batches", content=bomb), 413, "archive-too-large")
    assert problem["limit_name"] == "file"
    await assert_still_serving(client, httpx_mock)


async def test_a_zip_that_lies_about_its_size_is_refused(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    response = await client.post("/v1/batches", content=zip_that_understates_its_size(1_000_000))
    problem = assert_problem(response, 400, "malformed-archive")
    assert "liar.txt" in problem["detail"]
    await assert_still_serving(client, httpx_mock)


async def test_a_zip_bomb_inside_a_zip_is_not_opened(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    inner = zip_archive({"bomb.txt": bytes(50_000_000)})
    outer = zip_archive({"layer1.zip": zip_archive({"layer2.zip": inner}), "note.md": b"   "})
    response = await client.post("/v1/batches", content=outer)
    assert response.status_code == 202, response.text
    batch_id = response.json()["id"]
    lines = [
        json.loads(line) for line in (await client.get(f"/v1/batches/{batch_id}/results")).text.splitlines()
    ]
    problems = {line["article_id"]: line["problem"] for line in lines}
    assert problems["layer1.zip"]["type"] == "urn:factline:problem:invalid-article"
    assert "nested archives are not read" in problems["layer1.zip"]["detail"]
    assert problems["note.md"]["type"] == "urn:factline:problem:invalid-article"
    await assert_still_serving(client, httpx_mock)


async def test_options_lists_every_method_of_the_path(client: AsyncTestClient[Litestar]) -> None:
    """litestar's own OPTIONS answer named only the first handler's method (found by schemathesis)."""
    assert (await client.options("/v1/batches")).headers["allow"] == "GET, OPTIONS, POST"
    assert (await client.options("/v1/batches/b_1")).headers["allow"] == "DELETE, GET, OPTIONS"


async def test_unknown_query_parameters_are_refused_not_ignored(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/v1/batches?limit=5&colour=blue")
    problem = assert_problem(response, 422, "invalid-request")
    assert problem["errors"] == [{"location": "query.colour", "message": "not a parameter of this route"}]
    assert (await client.get("/v1/batches?limit=5")).status_code == 200
