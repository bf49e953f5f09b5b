"""API keys, the rate limit, request ids and CORS, through the HTTP API of the app."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pydantic import ValidationError

from api.app import create_app
from factline.settings import Settings
from tests.conftest import make_settings

KEY = "fl-test-key-0123456789"
OTHER_KEY = "fl-other-key-9876543210"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def keyed(request: pytest.FixtureRequest) -> AsyncIterator[AsyncTestClient[Litestar]]:
    overrides: dict[str, Any] = getattr(request, "param", {})
    settings = make_settings(api_key_sha256=[digest(KEY), digest(OTHER_KEY)], **overrides)
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = dict(response.json())
    assert problem["type"] == f"urn:factline:problem:{slug}"
    assert problem["status"] == status
    return problem


# --- API keys ---------------------------------------------------------------------------------


async def test_without_keys_the_service_is_open(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/v1/batches")).status_code == 200
    assert (await client.get("/schema/openapi.json")).status_code == 200


async def test_with_keys_every_route_but_health_needs_one(keyed: AsyncTestClient[Litestar]) -> None:
    assert (await keyed.get("/health")).json() == {"status": "ok"}
    for method, path in [
        ("GET", "/ready"),
        ("GET", "/v1/batches"),
        ("POST", "/v1/batches"),
        ("GET", "/v1/batches/b_1"),
        ("POST", "/v1/extractions"),
        ("GET", "/schema/openapi.json"),
    ]:
        response = await keyed.request(method, path, json={"text": "A short article."})
        problem = assert_problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == 'Bearer realm="factline"'
        assert "Authorization: Bearer" in problem["detail"]


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {KEY}x", f"Bearer {KEY[:-1]}", "Bearer ", f"Basic {KEY}", KEY, f"Bearer {digest(KEY)}"],
)
async def test_a_wrong_key_is_refused(keyed: AsyncTestClient[Litestar], authorization: str) -> None:
    response = await keyed.get("/v1/batches", headers={"Authorization": authorization})
    problem = assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == 'Bearer realm="factline", error="invalid_token"'
    assert KEY not in response.text
    assert problem["detail"] == "The API key is not valid."


async def test_each_configured_key_is_accepted(keyed: AsyncTestClient[Litestar]) -> None:
    for key in (KEY, OTHER_KEY):
        assert (await keyed.get("/v1/batches", headers=bearer(key))).status_code == 200
        assert (
            await keyed.get("/v1/batches", headers={"Authorization": f"bearer  {key} "})
        ).status_code == 200


def test_keys_are_configured_as_comma_separated_digests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTLINE_API_KEY_SHA256", f" {digest(KEY)} ,{digest(OTHER_KEY).upper()}")
    monkeypatch.setenv("FACTLINE_CORS_ALLOW_ORIGINS", "https://a.example, https://b.example")
    settings = Settings(_env_file=None)
    assert settings.api_key_sha256 == [digest(KEY), digest(OTHER_KEY).upper()]
    assert settings.cors_allow_origins == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("FACTLINE_API_KEY_SHA256", KEY)  # the key itself, not its digest
    with pytest.raises(ValidationError, match="api_key_sha256"):
        Settings(_env_file=None)


# --- rate limit -------------------------------------------------------------------------------


async def test_without_a_limit_no_rate_limit_headers(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/v1/batches")
    assert not [name for name in response.headers if name.lower().startswith("ratelimit")]


@pytest.mark.parametrize("keyed", [{"rate_limit_per_minute": 3}], indirect=True)
async def test_each_key_has_its_own_limit_then_429_with_retry_after(keyed: AsyncTestClient[Litestar]) -> None:
    for remaining in (2, 1, 0):
        response = await keyed.get("/v1/batches", headers=bearer(KEY))
        assert response.status_code == 200
        assert response.headers["ratelimit-limit"] == "3"
        assert response.headers["ratelimit-remaining"] == str(remaining)
        assert 0 < int(response.headers["ratelimit-reset"]) <= 60

    refused = await keyed.get("/v1/batches", headers=bearer(KEY))
    problem = assert_problem(refused, 429, "rate-limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert problem["retry_after"] == int(refused.headers["retry-after"])
    assert refused.headers["ratelimit-remaining"] == "0"

    # Another key, and the probe, are not affected.
    assert (await keyed.get("/v1/batches", headers=bearer(OTHER_KEY))).headers["ratelimit-remaining"] == "2"
    for _ in range(5):
        assert (await keyed.get("/health")).status_code == 200


async def test_without_keys_the_limit_is_per_client_address() -> None:
    async with AsyncTestClient(app=create_app(make_settings(rate_limit_per_minute=2))) as client:
        assert [(await client.get("/v1/batches")).status_code for _ in range(3)] == [200, 200, 429]


# --- request ids ------------------------------------------------------------------------------


async def test_a_valid_request_id_is_kept_and_returned(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(
        "/v1/extractions", json={"text": " "}, headers={"X-Request-ID": "client-42.retry:1"}
    )
    assert response.headers["x-request-id"] == "client-42.retry:1"
    assert assert_problem(response, 422, "invalid-request")["request_id"] == "client-42.retry:1"


@pytest.mark.parametrize("given", [None, b"", b"has space", b"x" * 129, b'quote"d', "é".encode()])
async def test_a_missing_or_odd_request_id_is_replaced(
    client: AsyncTestClient[Litestar], given: bytes | None
) -> None:
    headers: dict[bytes, bytes] = {b"X-Request-ID": given} if given is not None else {}
    first = await client.get("/v1/no-such-route", headers=headers)
    second = await client.get("/health", headers=headers)
    assert assert_problem(first, 404, "not-found")["request_id"] == first.headers["x-request-id"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert len(first.headers["x-request-id"]) == 32


# --- CORS -------------------------------------------------------------------------------------

PREFLIGHT = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}


async def test_cors_is_off_unless_configured(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = await client.options("/v1/extractions", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in preflight.headers


async def test_cors_allows_the_configured_origins_only() -> None:
    app = create_app(make_settings(cors_allow_origins=["https://app.example"]))
    async with AsyncTestClient(app=app) as client:
        preflight = await client.options("/v1/extractions", headers=PREFLIGHT)
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        other = await client.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_the_hooks_of_every_request_run_on_the_event_loop() -> None:
    """litestar runs a plain-function guard or `before_request` hook in a worker thread: a thread hop
    (and a wait for the loop to pick the result up) on every request."""
    app = create_app(make_settings(api_key_sha256=[digest(KEY)]))
    hooks = [app.before_request, *app.guards]
    assert len(hooks) == 2
    assert all(inspect.iscoroutinefunction(hook) for hook in hooks), hooks
