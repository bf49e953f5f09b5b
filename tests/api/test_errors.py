"""Every error a client can cause, or meet, answers RFC 9457 problem+json, and the service keeps serving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pytest_httpx import HTTPXMock

from api.app import create_app
from tests.conftest import COMPLETIONS_URL, authored, make_settings

SHORT = authored("reask_then_valid")


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = dict(response.json())
    assert problem["status"] == status
    assert problem["type"] == f"urn:factline:problem:{slug}"
    assert problem["title"]
    assert problem["detail"]
    return problem


async def assert_still_serving(client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock) -> None:
    """After any error, the same app still answers probes and extracts."""
    assert (await client.get("/health")).json() == {"status": "ok"}
    SHORT.replay(httpx_mock)
    response = await client.post("/v1/extractions", json=SHORT.request_json())
    assert response.status_code == 200, response.text


# --- bodies the service cannot read -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "status", "slug", "detail_part"),
    [
        (b'{"text": "unterminated', "application/json", 400, "malformed-body", "not valid JSON"),
        (b'{"text": "caf\xe9"}', "application/json", 400, "malformed-body", "not valid UTF-8"),
        (b"caf\xe9 \xff", "text/plain", 400, "malformed-body", "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "malformed-body", "not usable JSON"),
        (
            b'{"text": "a", "id": ' + b"9" * 5000 + b"}",
            "application/json",
            400,
            "malformed-body",
            "not usable JSON",
        ),
        (b"caf\xe9", "text/plain; charset=x-unknown-9", 415, "unsupported-media-type", "Unknown charset"),
        (b"<article>Hi</article>", "application/xml", 415, "unsupported-media-type", "application/xml"),
        (b"text=hello", "application/x-www-form-urlencoded", 415, "unsupported-media-type", "not supported"),
    ],
)
async def test_unreadable_bodies(
    client: AsyncTestClient[Litestar],
    httpx_mock: HTTPXMock,
    body: bytes,
    content_type: str,
    status: int,
    slug: str,
    detail_part: str,
) -> None:
    response = await client.post("/v1/extractions", content=body, headers={"content-type": content_type})
    problem = assert_problem(response, status, slug)
    assert detail_part in problem["detail"]
    assert problem["instance"] == "/v1/extractions"
    await assert_still_serving(client, httpx_mock)


# --- bodies that are readable but invalid ------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "location"),
    [
        ({"text": ""}, "body.text"),
        ({"text": " \n\t "}, "body.text"),
        ({"title": "no text"}, "body.text"),
        ({"text": 42}, "body.text"),
        ({"text": "Hi.", "published_at": "yesterday-ish"}, "body.published_at"),
        ({"text": "Hi.", "published_at": "2025-02-30"}, "body.published_at"),
        ({"text": "Hi.", "types": ["quote", "rumour"]}, "body.types.1"),
        ({"text": "Hi.", "types": []}, "body.types"),
        ({"text": "Hi.", "colour": "blue"}, "body.colour"),
        ({"text": "Hi.", "language": "not a tag!"}, "body.language"),
        (["Hi."], "body"),
    ],
)
async def test_invalid_fields_are_each_listed(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock, payload: Any, location: str
) -> None:
    response = await client.post("/v1/extractions", json=payload)
    problem = assert_problem(response, 422, "invalid-request")
    assert location in [error["location"] for error in problem["errors"]], problem
    await assert_still_serving(client, httpx_mock)


async def test_every_invalid_field_is_reported_at_once(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/v1/extractions", json={"text": "", "published_at": "x", "extra": 1})
    problem = assert_problem(response, 422, "invalid-request")
    assert {e["location"] for e in problem["errors"]} == {"body.text", "body.published_at", "body.extra"}


async def test_query_metadata_of_a_plain_text_article_is_validated_as_query(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.post(
        "/v1/extractions?published_at=someday&colour=blue",
        content="Some article.",
        headers={"content-type": "text/plain"},
    )
    problem = assert_problem(response, 422, "invalid-request")
    assert {e["location"] for e in problem["errors"]} == {"query.published_at", "query.colour"}


async def test_query_parameters_with_a_json_body_are_refused_not_ignored(
    client: AsyncTestClient[Litestar],
) -> None:
    response = await client.post("/v1/extractions?title=Ignored", json={"text": "Some article."})
    problem = assert_problem(response, 422, "invalid-request")
    assert problem["errors"] == [{"location": "query.title", "message": "not allowed with a JSON body"}]


# --- size limits -------------------------------------------------------------------------------


async def test_article_over_the_limit_says_what_the_limit_is(httpx_mock: HTTPXMock) -> None:
    app = create_app(make_settings(max_article_chars=100))
    async with AsyncTestClient(app=app) as client:
        response = await client.post("/v1/extractions", json={"text": "é" * 101})
        problem = assert_problem(response, 413, "article-too-large")
        assert problem["limit"] == 100
        assert problem["characters"] == 101
        assert "100" in problem["detail"]
        assert not httpx_mock.get_requests()  # refused before any LLM call
        await assert_still_serving(client, httpx_mock)


async def test_body_over_the_limit_is_refused_before_it_is_read(client: AsyncTestClient[Litestar]) -> None:
    oversized = b"x" * (make_settings().max_body_bytes + 1)
    response = await client.post("/v1/extractions", content=oversized, headers={"content-type": "text/plain"})
    assert_problem(response, 413, "body-too-large")


# --- the LLM failing ---------------------------------------------------------------------------


async def test_rate_limit_from_the_provider_is_passed_on_with_retry_after(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    authored("rate_limited").replay(httpx_mock)
    response = await client.post("/v1/extractions", json=SHORT.request_json())
    problem = assert_problem(response, 429, "llm-rate-limited")
    assert response.headers["retry-after"] == "7"
    assert problem["retry_after"] == 7
    await assert_still_serving(client, httpx_mock)


@pytest.mark.parametrize(
    ("fixture", "detail_part"),
    [
        ("always_invalid", "unusable after 2 attempt(s)"),
        ("truncated_output", "cut off"),
        ("refusal", "refused"),
        ("server_error", "HTTP 500"),
    ],
)
async def test_unusable_model_output_is_a_bad_gateway(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock, fixture: str, detail_part: str
) -> None:
    authored(fixture).replay(httpx_mock)
    if fixture == "always_invalid":
        httpx_mock.reset()  # only as many answers as the re-ask budget allows will be asked for
        for exchange in authored(fixture).exchanges[:2]:
            httpx_mock.add_response(url=COMPLETIONS_URL, json=exchange["response"]["json"])
    response = await client.post("/v1/extractions", json=SHORT.request_json())
    problem = assert_problem(response, 502, "llm-output-unusable")
    assert detail_part in problem["detail"]
    await assert_still_serving(client, httpx_mock)


async def test_an_answer_that_is_not_json_is_a_bad_gateway(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    """A proxy in front of the LLM answering 200 with its own page is the endpoint's fault."""
    httpx_mock.add_response(
        url=COMPLETIONS_URL, text="<html>Service warming up</html>", headers={"content-type": "text/html"}
    )
    response = await client.post("/v1/extractions", json=SHORT.request_json())
    problem = assert_problem(response, 502, "llm-output-unusable")
    assert "not a JSON object" in problem["detail"]
    assert len(httpx_mock.get_requests(url=COMPLETIONS_URL)) == 1  # no re-ask: the model said nothing
    await assert_still_serving(client, httpx_mock)


async def test_a_reask_makes_exactly_one_more_call_and_both_are_billed(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    SHORT.replay(httpx_mock)
    response = await client.post("/v1/extractions", json=SHORT.request_json())
    assert response.status_code == 200, response.text
    calls = httpx_mock.get_requests(url=COMPLETIONS_URL)
    assert len(calls) == 2
    # The second call carries the validation errors back to the model.
    assert "kind" in calls[1].content.decode()
    assert len(calls[1].content) > len(calls[0].content)
    assert response.json()["usage"] == {
        "prompt_tokens": 500 + 650,
        "completion_tokens": 40 + 90,
        "total_tokens": 1280,
        "llm_calls": 2,
    }
    assert [q["text"] for q in response.json()["quotes"]] == ["a step forward"]


async def test_failed_attempts_are_billed_in_the_problem(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock
) -> None:
    for exchange in authored("always_invalid").exchanges[:2]:
        httpx_mock.add_response(url=COMPLETIONS_URL, json=exchange["response"]["json"])
    response = await client.post("/v1/extractions", json=SHORT.request_json())
    problem = assert_problem(response, 502, "llm-output-unusable")
    assert problem["usage"]["llm_calls"] == 2
    assert problem["usage"]["prompt_tokens"] == 1000
    assert len(httpx_mock.get_requests(url=COMPLETIONS_URL)) == 2  # 1 call + llm_max_reasks=1


@pytest.mark.parametrize(
    ("exception", "status", "slug"),
    [
        (httpx.ConnectError("connection refused"), 503, "llm-unavailable"),
        (httpx.RemoteProtocolError("server disconnected"), 503, "llm-unavailable"),
        (httpx.ReadTimeout("read timed out"), 504, "llm-timeout"),
    ],
)
async def test_transport_failures_of_the_llm(
    client: AsyncTestClient[Litestar], httpx_mock: HTTPXMock, exception: Exception, status: int, slug: str
) -> None:
    httpx_mock.add_exception(exception, url=COMPLETIONS_URL)
    response = await client.post("/v1/extractions", json=SHORT.request_json())
    assert_problem(response, status, slug)
    await assert_still_serving(client, httpx_mock)


async def test_transport_retries_are_one_layer_and_bounded(httpx_mock: HTTPXMock) -> None:
    app = create_app(make_settings(llm_max_retries=2))
    httpx_mock.add_response(
        url=COMPLETIONS_URL,
        status_code=503,
        json={"error": {"message": "busy"}},
        headers={"retry-after": "0"},
    )
    httpx_mock.add_response(
        url=COMPLETIONS_URL,
        status_code=503,
        json={"error": {"message": "busy"}},
        headers={"retry-after": "0"},
    )
    for exchange in SHORT.exchanges:
        httpx_mock.add_response(url=COMPLETIONS_URL, json=exchange["response"]["json"])
    async with AsyncTestClient(app=app) as client:
        response = await client.post("/v1/extractions", json=SHORT.request_json())
    assert response.status_code == 200, response.text
    assert len(httpx_mock.get_requests(url=COMPLETIONS_URL)) == 4  # 2 transport retries, then 1 re-ask


async def test_embedded_llm_not_set_up_says_how_to_set_it_up(tmp_path: Path) -> None:
    app = create_app(
        make_settings(llm_base_url=None, local_model="smollm2-135m-instruct-q4_1", local_home=tmp_path)
    )
    async with AsyncTestClient(app=app) as client:
        problem = assert_problem(
            await client.post("/v1/extractions", json={"text": "An article."}), 503, "llm-unavailable"
        )
        assert "factline setup-local" in problem["detail"]
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert "factline setup-local" in ready.json()["llm"]["detail"]


async def test_without_an_llm_extraction_is_unavailable_and_says_how_to_configure() -> None:
    app = create_app(make_settings(llm_base_url=None))
    async with AsyncTestClient(app=app) as client:
        response = await client.post("/v1/extractions", json={"text": "An article."})
        problem = assert_problem(response, 503, "llm-unavailable")
        assert "FACTLINE_LLM_BASE_URL" in problem["detail"]
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["llm"]["configured"] is False
        assert (await client.get("/health")).status_code == 200


# --- routing ---------------------------------------------------------------------------------


async def test_unknown_route_and_wrong_method(client: AsyncTestClient[Litestar]) -> None:
    assert_problem(await client.get("/v1/nothing-here"), 404, "not-found")
    assert_problem(await client.get("/v1/extractions"), 405, "method-not-allowed")
