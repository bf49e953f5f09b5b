"""Shared test fixtures: settings, the app in-process, a real uvicorn server, and LLM replay."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pytest_httpx import HTTPXMock

from api.app import create_app
from factline.local_llm import free_port
from factline.recording import load_article_request
from factline.settings import Settings
from schemas import ExtractionRequest

pytest_plugins = ["tests.postgres"]

_SWITCHES = (
    "FACTLINE_LIVE_TESTS",
    "FACTLINE_POSTGRES_TESTS",
    "FACTLINE_BROWSER_TESTS",
    "FACTLINE_NODE_TESTS",
)

# Tests build their settings explicitly; a developer's FACTLINE_* variables must not leak into them.
for _name in [name for name in os.environ if name.startswith("FACTLINE_") and name not in _SWITCHES]:
    del os.environ[_name]

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "fixtures" / "articles"
RECORDED = ROOT / "fixtures" / "llm"
AUTHORED = RECORDED / "authored"
LLM_HOST = "llm.test"
LLM_BASE_URL = f"http://{LLM_HOST}/v1"
# Every test's databases, removed when the test process exits.
DATABASES = tempfile.TemporaryDirectory(prefix="factline-test-")
COMPLETIONS_URL = f"{LLM_BASE_URL}/chat/completions"


def only_llm_host(request: httpx.Request) -> bool:
    """pytest-httpx answers for the fake LLM host only; calls to our own server go through for real."""
    return request.url.host == LLM_HOST


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.httpx_mock(should_mock=only_llm_host))


def make_settings(**overrides: Any) -> Settings:
    """Settings of a test: the fake LLM host, and no transport retries unless a test asks for them."""
    values: dict[str, Any] = {
        "llm_base_url": LLM_BASE_URL,
        "llm_model": "qwen2.5-coder-1.5b-instruct-q4_k_m",
        "llm_max_retries": 0,
        "llm_max_reasks": 1,
        "llm_timeout_seconds": 5,
        "llm_http_client": "httpx",  # what pytest-httpx intercepts; tests against real servers use aiohttp
        "local_model": "none",
        # A fresh database per app: the extraction cache must not carry answers from test to test.
        "database_url": f"sqlite+aiosqlite:///{tempfile.mkdtemp(dir=DATABASES.name)}/factline.db",
        "batch_poll_seconds": 0.05,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass(frozen=True)
class Recording:
    """One fixture file: the exchanges to replay and what they were recorded for."""

    path: Path
    data: dict[str, Any]

    @property
    def exchanges(self) -> list[dict[str, Any]]:
        return list(self.data["exchanges"])

    @property
    def authored(self) -> bool:
        return bool(self.data.get("authored"))

    @property
    def article_text(self) -> str:
        if "article_text" in self.data:
            return str(self.data["article_text"])
        return (ARTICLES / str(self.data["article"])).read_text("utf-8")

    def extraction_request(self) -> ExtractionRequest:
        if "article_text" in self.data:
            return ExtractionRequest(text=self.article_text, **self.data["request"])
        return load_article_request(ARTICLES / self.data["article"])

    def settings(self) -> Settings:
        """Test settings that make the calls this fixture was recorded with (one, or one per type)."""
        return make_settings(extraction_calls=self.data.get("recorded", {}).get("extraction_calls", "single"))

    def request_json(self) -> dict[str, Any]:
        """The body to POST for this fixture's article."""
        return self.extraction_request().model_dump(mode="json", exclude_none=True)

    def replay(self, httpx_mock: HTTPXMock) -> None:
        """Answer each request with the fixture's response, in order.

        A recorded exchange only answers the exact request it was recorded for: a changed prompt or
        schema fails loudly until it is re-recorded. Authored ones answer whatever is asked.
        """
        for exchange in self.exchanges:
            response = exchange["response"]
            recorded_request = exchange.get("request")
            httpx_mock.add_response(
                url=COMPLETIONS_URL,
                method="POST",
                match_json=recorded_request["json"] if recorded_request else None,
                status_code=response["status_code"],
                headers=response.get("headers") or None,
                json=response["json"],
            )


def load_recording(path: Path) -> Recording:
    return Recording(path, json.loads(path.read_text("utf-8")))


RECORDINGS = sorted(RECORDED.glob("*.json"))


def authored(name: str) -> Recording:
    return load_recording(AUTHORED / f"{name}.json")


def samples_settings(**overrides: Any) -> Settings:
    """Test settings making the calls the sample articles' recordings were made with (one per type)."""
    [plan] = {load_recording(path).settings().extraction_calls for path in RECORDINGS}
    return make_settings(extraction_calls=plan, **overrides)


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    port: int


@contextmanager
def serving(app: Litestar, startup_seconds: float = 10) -> Iterator[LiveServer]:
    """The app behind a real uvicorn server (in a thread) on a loopback port, stopped after the block."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_seconds
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(base_url=f"http://127.0.0.1:{port}", port=port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(app: Litestar) -> Iterator[LiveServer]:
    with serving(app) as server:
        yield server
