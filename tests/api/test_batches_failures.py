"""Batches that meet trouble: bad archives, bad entries, limits, LLM failures, rate limits, cancel, retry."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pytest_httpx import HTTPXMock

from api.app import create_app
from tests.batch_support import (
    answer_from_article,
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
from tests.conftest import COMPLETIONS_URL, make_settings


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = dict(response.json())
    assert problem["type"] == f"urn:factline:problem:{slug}"
    assert problem["detail"]
    return problem


GOOD_ZIP = zip_archive(text_files(2))


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings for each queue: factline's own on SQLite, procrastinate on PostgreSQL (a real server)."""
    if request.param == "postgresql":
        return {"database_url": request.getfixturevalue("postgres_url")}
    return {}


@pytest.mark.parametrize(
    ("body", "status", "slug", "detail_part"),
    [
        (GOOD_ZIP[: len(GOOD_ZIP) // 2], 400, "malformed-archive", "zip archive is corrupt"),
        (tar_archive(text_files(3), "gz")[:-40], 400, "malformed-archive", "corrupt"),
        (b"\x1f\x8b\x08\x00garbage", 400, "malformed-archive", "gzip stream is corrupt"),
        (b"", 400, "malformed-archive", "empty"),
        (b"\n\n", 400, "malformed-archive", "empty"),
        (zip_archive({}), 400, "malformed-archive", "no articles"),
        (b"BZh91AY&SY" + b"\x00" * 40, 415, "unsupported-archive", "bzip2"),
        (b"7z\xbc\xaf\x27\x1c" + b"\x00" * 40, 415, "unsupported-archive", "7z"),
        (gzip.compress(b'{"text": "a"}\n'), 415, "unsupported-archive", "holds no tar"),
        (b"<html>not an archive</html>", 415, "unsupported-archive", "neither NDJSON"),
        (b'[{"text": "a JSON array is not NDJSON"}]', 415, "unsupported-archive", "neither NDJSON"),
    ],
)
async def test_unusable_archives_are_refused_whole(
    client: AsyncTestClient[Litestar], body: bytes, status: int, slug: str, detail_part: str
) -> None:
    response = await client.post(
        "/v1/batches", content=body, headers={"content-type": "application/octet-stream"}
    )
    problem = assert_problem(response, status, slug)
    assert detail_part in problem["detail"]
    assert (await client.get("/v1/batches")).json()["batches"] == []  # nothing half-created


async def test_multipart_without_a_file_part(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/v1/batches", files={"archive": ("a.zip", GOOD_ZIP, "application/zip")})
    assert "no `file` part" in assert_problem(response, 400, "malformed-archive")["detail"]


@pytest.mark.parametrize(
    ("overrides", "body", "limit_name"),
    [
        ({"batch_max_files": 3}, ndjson([{"text": article_text(n)} for n in range(4)]), "articles"),
        ({"batch_max_files": 3}, zip_archive(text_files(4)), "articles"),
        ({"batch_max_file_bytes": 1000}, zip_archive({"big.txt": b"a" * 1001}), "file"),
        ({"batch_max_file_bytes": 1000}, tar_archive({"big.txt": b"a" * 1001}, "gz"), "file"),
        ({"batch_max_file_bytes": 1000}, ndjson([{"text": "a" * 1000}]), "file"),
        ({"batch_max_total_bytes": 5000}, tar_archive({f"{n}.txt": b"a" * 900 for n in range(6)}), "total"),
        # A zip bomb: 50 MB of zeros in a few kB, refused without inflating it.
        ({"batch_max_total_bytes": 10_000_000}, zip_archive({"bomb.txt": b"\0" * 50_000_000}), "total"),
        ({"batch_max_upload_bytes": 100}, ndjson([{"text": article_text(n)} for n in range(3)]), "upload"),
    ],
)
async def test_limits_answer_413(overrides: dict[str, Any], body: bytes, limit_name: str) -> None:
    async with AsyncTestClient(app=create_app(make_settings(**overrides))) as client:
        response = await client.post("/v1/batches", content=body)
        problem = assert_problem(response, 413, "archive-too-large")
        assert problem["limit_name"] == limit_name
        assert problem["limit"] == next(iter(overrides.values()))
        assert (await client.get("/v1/batches")).json()["batches"] == []


async def test_bad_entries_fail_alone(client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock) -> None:
    llm_answers_every_article(httpx_mock)
    lines = (
        json.dumps({"text": article_text(1)}).encode()
        + b"\n"
        + b'{"text": "unterminated\n'
        + b"\n"  # blank lines are skipped, not articles
        + b'{"text": "caf\xe9"}\n'
        + json.dumps({"text": "  "}).encode()
        + b"\n"
        + json.dumps({"text": article_text(2), "colour": "red"}).encode()
        + b"\n"
        + b"[1, 2]\n"
        + json.dumps({"text": article_text(3), "id": "mine"}).encode()
        + b"\n"
    )
    batch = await submit(client, lines, "application/x-ndjson")
    assert batch["counts"]["total"] == 7
    done = await wait_until_finished(client, batch["id"])
    assert done["status"] == "completed"
    assert (done["counts"]["succeeded"], done["counts"]["failed"]) == (2, 5)
    by_id = {line["article_id"]: line for line in await results(client, batch["id"])}
    assert by_id["line-1"]["status"] == by_id["mine"]["status"] == "succeeded"
    expected = {
        "line-2": "not valid JSON",
        "line-4": "not valid UTF-8",
        "line-5": "text must contain more than whitespace",
        "line-6": "colour: Extra inputs are not permitted",
        "line-7": "not an object",
    }
    for article_id, part in expected.items():
        line = by_id[article_id]
        assert line["status"] == "failed"
        assert "extraction" not in line
        assert line["problem"]["type"] == "urn:factline:problem:invalid-article"
        assert line["problem"]["status"] == 422
        assert part in line["problem"]["detail"], line
    assert llm_calls(httpx_mock) == 2


async def test_bad_files_fail_alone(client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock) -> None:
    llm_answers_every_article(httpx_mock)
    files = {
        "good.txt": article_text(1).encode(),
        "latin1.txt": "café".encode("latin-1"),
        "inner.zip": zip_archive(text_files(1)),
        "inner.tar.gz": tar_archive(text_files(1), "gz"),
        "picture.png": b"\x89PNG",
        "bad.json": b'{"title": "no text"}',
        "../../escape.txt": article_text(2).encode(),
        "__MACOSX/._good.txt": b"junk",
        "folder/": b"",
    }
    batch = await submit(client, zip_archive(files))
    assert batch["counts"]["total"] == 7  # macOS metadata and folders are not articles
    await wait_until_finished(client, batch["id"])
    by_id = {line["article_id"]: line for line in await results(client, batch["id"])}
    assert by_id["good.txt"]["status"] == "succeeded"
    # A path is an id only: nothing is written anywhere, "../" included.
    assert by_id["../../escape.txt"]["status"] == "succeeded"
    assert by_id["../../escape.txt"]["extraction"]["article"]["id"] == "../../escape.txt"
    for name, part in {
        "latin1.txt": "not valid UTF-8",
        "inner.zip": "nested archives are not read",
        "inner.tar.gz": "nested archives are not read",
        "picture.png": "not a .txt, .md or .json file",
        "bad.json": "text: Field required",
    }.items():
        assert by_id[name]["status"] == "failed"
        assert by_id[name]["problem"]["type"] == "urn:factline:problem:invalid-article"
        assert part in by_id[name]["problem"]["detail"]


async def test_llm_failures_become_item_problems_and_retry_requeues_them(
    database: dict[str, Any], httpx_mock: HTTPXMock
) -> None:
    async with AsyncTestClient(app=create_app(make_settings(**database))) as client:
        await fail_then_retry(client, httpx_mock)


async def fail_then_retry(client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock) -> None:
    failing = {"on": True}

    def answer(request: httpx.Request) -> httpx.Response:
        if failing["on"] and "plan number 1 " in json.loads(request.content)["messages"][-2]["content"]:
            return httpx.Response(500, json={"error": {"message": "boom"}})
        return httpx.Response(200, json=answer_from_article(request))

    httpx_mock.add_callback(answer, url=COMPLETIONS_URL, is_reusable=True)
    batch = await submit(client, ndjson([{"text": article_text(n)} for n in range(3)] + [{"text": "  "}]))
    done = await wait_until_finished(client, batch["id"])
    assert (done["counts"]["succeeded"], done["counts"]["failed"]) == (2, 2)
    first = await results(client, batch["id"])
    [llm_failure] = [line for line in first if line["article_id"] == "line-2"]
    assert llm_failure["problem"]["type"] == "urn:factline:problem:llm-output-unusable"
    assert llm_failure["problem"]["status"] == 502

    failing["on"] = False
    retried = await client.post(f"/v1/batches/{batch['id']}/retry")
    assert retried.status_code == 202
    assert retried.json()["requeued"] == 1  # the blank line is no article: nothing to retry
    done = await wait_until_finished(client, batch["id"])
    assert (done["counts"]["succeeded"], done["counts"]["failed"]) == (3, 1)

    after_retry = await results(client, batch["id"])
    assert len(after_retry) == 4  # each article once: the failed line was replaced
    [replacement] = [line for line in after_retry if line["article_id"] == "line-2"]
    assert replacement["status"] == "succeeded"
    # A client that had read everything before the retry sees the new line after its cursor.
    assert await results(client, batch["id"], f"?after={first[-1]['cursor']}") == [replacement]


async def test_rate_limits_are_retried_by_the_llm_client_not_requeued(
    database: dict[str, Any], httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(
        url=COMPLETIONS_URL,
        status_code=429,
        headers={"Retry-After": "1"},
        json={"error": {"message": "slow"}},
    )
    llm_answers_every_article(httpx_mock)
    async with AsyncTestClient(app=create_app(make_settings(llm_max_retries=1, **database))) as client:
        batch = await submit(client, ndjson([{"text": article_text(1)}]))
        started = asyncio.get_running_loop().time()
        done = await wait_until_finished(client, batch["id"])
    assert asyncio.get_running_loop().time() - started >= 0.9  # Retry-After was honoured
    assert done["counts"]["succeeded"] == 1
    assert done["counts"]["failed"] == 0
    assert llm_calls(httpx_mock) == 2


async def test_cancel(database: dict[str, Any], httpx_mock: HTTPXMock) -> None:
    release, started, abandoned = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow_answer(request: httpx.Request) -> httpx.Response:
        started.set()
        try:
            await release.wait()
        except asyncio.CancelledError:
            abandoned.set()
            raise
        return httpx.Response(200, json=answer_from_article(request))

    httpx_mock.add_callback(slow_answer, url=COMPLETIONS_URL, is_reusable=True, is_optional=True)
    async with AsyncTestClient(app=create_app(make_settings(batch_concurrency=1, **database))) as client:
        batch = await submit(client, ndjson([{"text": article_text(n)} for n in range(5)]))
        await asyncio.wait_for(started.wait(), timeout=5)
        # One in the LLM's hands, one claimed beside it (`batch_jobs`), not sent once cancelled.
        for _ in range(500):
            if (await client.get(f"/v1/batches/{batch['id']}")).json()["counts"]["running"] == 2:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the second item was never claimed")
        response = await client.delete(f"/v1/batches/{batch['id']}")
        assert response.status_code == 200
        cancelled = response.json()
        assert cancelled["status"] == "cancelled"
        assert cancelled["counts"]["cancelled"] == 5
        assert cancelled["counts"]["pending"] == 0
        # The call under way is abandoned: its answer would be discarded.
        await asyncio.wait_for(abandoned.wait(), timeout=5)
        release.set()
        await asyncio.sleep(0.2)  # nothing else goes to the LLM

        lines = await results(client, batch["id"])
        assert sorted(line["status"] for line in lines) == ["cancelled"] * 5
        assert (await client.get(f"/v1/batches/{batch['id']}")).json()["counts"]["succeeded"] == 0
        assert (await client.delete(f"/v1/batches/{batch['id']}")).status_code == 200  # idempotent
        retry = await client.post(f"/v1/batches/{batch['id']}/retry")
        assert_problem(retry, 409, "batch-conflict")
        assert llm_calls(httpx_mock) == 1  # nothing started after the cancel


async def test_cancelling_a_finished_batch_conflicts(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    llm_answers_every_article(httpx_mock)
    batch = await submit(client, ndjson([{"text": article_text(1)}]))
    await wait_until_finished(client, batch["id"])
    assert_problem(await client.delete(f"/v1/batches/{batch['id']}"), 409, "batch-conflict")
